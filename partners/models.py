"""The evidence: MSOs, their practices, and what is known about them.

Every range and uniqueness rule is a database constraint, so bulk loads and
raw SQL cannot store what a form would refuse. ``violation_error_message``
gives the words the admin shows when a form trips one. The accepted range of days
(``EARLIEST_DAY`` to ``LATEST_DAY``) is the exception: it catches slips at the keyboard, so
it is a validator of the forms and ``full_clean`` only.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from .csvfiles import DAY_RANGE_TEXT, EARLIEST_DAY, LATEST_DAY
from .surveys.formats import FORMAT_CHOICES as SURVEY_TOOLS


class OwnershipModel(models.TextChoices):
    PARTNERSHIP_EQUITY = "partnership_equity", "Partnership with equity"
    FULL_ACQUISITION = "full_acquisition", "Full acquisition or employment"
    MINORITY_INVESTMENT = "minority_investment", "Minority investment"
    JOINT_VENTURE = "joint_venture", "Joint venture"


class SpecialtyFocus(models.TextChoices):
    SINGLE = "single", "Single specialty"
    MULTI = "multi", "Multi-specialty"


class ServiceArea(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    HR = "hr", "HR"
    REVENUE_CYCLE = "revenue_cycle", "Revenue cycle management"
    PAYOR_CONTRACTING = "payor_contracting", "Payor contracting"
    IT_SYSTEMS = "it_systems", "IT and practice systems"
    COMPLIANCE = "compliance", "Compliance"
    PURCHASING = "purchasing", "Purchasing"
    EQUIPMENT_FUNDING = "equipment_funding", "Equipment and technology funding"
    GROWTH = "growth", "Growth and expansion"
    RECRUITING = "recruiting", "Recruiting"
    TRAINING = "training", "Training and continuing education"


US_STATES = [
    ("AL", "Alabama"), ("AK", "Alaska"), ("AZ", "Arizona"), ("AR", "Arkansas"),
    ("CA", "California"), ("CO", "Colorado"), ("CT", "Connecticut"), ("DE", "Delaware"),
    ("DC", "District of Columbia"), ("FL", "Florida"), ("GA", "Georgia"), ("HI", "Hawaii"),
    ("ID", "Idaho"), ("IL", "Illinois"), ("IN", "Indiana"), ("IA", "Iowa"),
    ("KS", "Kansas"), ("KY", "Kentucky"), ("LA", "Louisiana"), ("ME", "Maine"),
    ("MD", "Maryland"), ("MA", "Massachusetts"), ("MI", "Michigan"), ("MN", "Minnesota"),
    ("MS", "Mississippi"), ("MO", "Missouri"), ("MT", "Montana"), ("NE", "Nebraska"),
    ("NV", "Nevada"), ("NH", "New Hampshire"), ("NJ", "New Jersey"), ("NM", "New Mexico"),
    ("NY", "New York"), ("NC", "North Carolina"), ("ND", "North Dakota"), ("OH", "Ohio"),
    ("OK", "Oklahoma"), ("OR", "Oregon"), ("PA", "Pennsylvania"), ("PR", "Puerto Rico"),
    ("RI", "Rhode Island"), ("SC", "South Carolina"), ("SD", "South Dakota"),
    ("TN", "Tennessee"), ("TX", "Texas"), ("UT", "Utah"), ("VT", "Vermont"),
    ("VA", "Virginia"), ("WA", "Washington"), ("WV", "West Virginia"), ("WI", "Wisconsin"),
    ("WY", "Wyoming"),
]  # fmt: skip
US_STATE_CODES = [code for code, _ in US_STATES]


# The days evidence can be dated (partners.csvfiles, which the imports share with the forms).
DAY_RANGE_MESSAGE = f"Enter a date from {DAY_RANGE_TEXT}."


def _day_validators():
    """Every date field of the evidence takes these, so that each form and ``full_clean``
    refuses a far date with the range in words."""
    return [MinValueValidator(EARLIEST_DAY, DAY_RANGE_MESSAGE),
            MaxValueValidator(LATEST_DAY, DAY_RANGE_MESSAGE)]  # fmt: skip


def _choices_check(field, choices, name, message, allow_blank=False):
    values = [*choices.values, ""] if allow_blank else choices.values
    return models.CheckConstraint(
        condition=Q(**{f"{field}__in": values}),
        name=name,
        violation_error_message=message,
    )


class MSO(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    # Blank means "not known yet", e.g. for an MSO created by a practice import.
    ownership_model = models.CharField(max_length=32, choices=OwnershipModel.choices, blank=True)
    specialty_focus = models.CharField(max_length=16, choices=SpecialtyFocus.choices, blank=True)
    specialties = models.CharField(
        max_length=300,
        blank=True,
        help_text="The specialties served, comma separated (one for a single-specialty MSO).",
    )
    clinical_autonomy_terms = models.TextField(
        blank=True, help_text="The clinical autonomy terms as written in the partnership contract."
    )
    founded_year = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1900), MaxValueValidator(2100)],
    )
    reported_practices = models.PositiveIntegerField(
        null=True, blank=True, help_text="Footprint as the MSO reports it: affiliated practices."
    )
    reported_surgeons = models.PositiveIntegerField(
        null=True, blank=True, help_text="Footprint as the MSO reports it: surgeon partners."
    )
    reported_states = models.CharField(
        max_length=300, blank=True, help_text="States the MSO operates in, comma separated."
    )
    values = models.TextField(blank=True, help_text="Values and culture statements.")
    website = models.URLField(blank=True)
    published = models.BooleanField(
        default=False, help_text="Only published MSOs appear in comparisons and reports."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "MSO"
        verbose_name_plural = "MSOs"
        ordering = ["name"]
        constraints = [
            _choices_check(
                "ownership_model",
                OwnershipModel,
                "mso_ownership_model_valid",
                "Choose one of the ownership models.",
                allow_blank=True,
            ),
            _choices_check(
                "specialty_focus",
                SpecialtyFocus,
                "mso_specialty_focus_valid",
                "Choose single specialty or multi-specialty.",
                allow_blank=True,
            ),
            models.CheckConstraint(
                condition=Q(founded_year__isnull=True)
                | Q(founded_year__gte=1900, founded_year__lte=2100),
                name="mso_founded_year_range",
                violation_error_message="The founding year must be between 1900 and 2100.",
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.founded_year and self.founded_year > datetime.date.today().year:
            raise ValidationError({"founded_year": "The founding year cannot be in the future."})


class MSOService(models.Model):
    """A service area the MSO says it offers, with what it says about it."""

    mso = models.ForeignKey(MSO, on_delete=models.CASCADE, related_name="services")
    area = models.CharField(max_length=32, choices=ServiceArea.choices)
    detail = models.TextField(blank=True)

    class Meta:
        verbose_name = "service area offered"
        verbose_name_plural = "service areas offered"
        ordering = ["mso", "area"]
        constraints = [
            models.UniqueConstraint(
                fields=["mso", "area"],
                name="mso_service_unique_area",
                violation_error_message="This service area is already listed for the MSO.",
            ),
            _choices_check(
                "area", ServiceArea, "mso_service_area_valid", "Choose one of the service areas."
            ),
        ]

    def __str__(self):
        return f"{self.mso}: {self.get_area_display()}"


class Practice(models.Model):
    code = models.CharField(
        max_length=64, unique=True, help_text="The practice's external code, used by imports."
    )
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, choices=US_STATES)
    surgeons = models.PositiveSmallIntegerField(
        default=1, validators=[MaxValueValidator(500)], help_text="Number of surgeons."
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=US_STATE_CODES),
                name="practice_state_valid",
                violation_error_message="Choose a US state.",
            ),
            models.CheckConstraint(
                condition=Q(surgeons__lte=500),
                name="practice_surgeons_range",
                violation_error_message="A practice has between 0 and 500 surgeons.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


class AffiliationQuerySet(models.QuerySet):
    def active_on(self, day):
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gte=day), started_on__lte=day)

    def overlapping(self, practice_id, started_on, ended_on):
        qs = self.filter(practice_id=practice_id).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=started_on)
        )
        if ended_on is not None:
            qs = qs.filter(started_on__lte=ended_on)
        return qs


class Affiliation(models.Model):
    """A practice belonged to an MSO from ``started_on`` to ``ended_on``, both inclusive.

    A practice belongs to at most one MSO at a time: overlapping affiliations
    of one practice are refused by ``clean()`` and by the database (an
    exclusion constraint on PostgreSQL, triggers on SQLite; see migration 0002).
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="affiliations")
    mso = models.ForeignKey(MSO, on_delete=models.CASCADE, related_name="affiliations")
    started_on = models.DateField(validators=_day_validators())
    ended_on = models.DateField(
        null=True,
        blank=True,
        validators=_day_validators(),
        help_text="Last day; empty while current.",
    )

    objects = AffiliationQuerySet.as_manager()

    class Meta:
        ordering = ["practice", "started_on"]
        indexes = [
            models.Index(fields=["mso", "started_on"], name="affiliation_mso_start"),
            models.Index(fields=["practice", "started_on"], name="affiliation_practice_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="affiliation_end_after_start",
                violation_error_message="An affiliation cannot end before it starts.",
            ),
        ]

    def __str__(self):
        until = self.ended_on.isoformat() if self.ended_on else "now"
        return f"{self.practice} with {self.mso}, {self.started_on.isoformat()} to {until}"

    def clean(self):
        if not (self.practice_id and self.started_on):
            return
        clash = (
            Affiliation.objects.overlapping(self.practice_id, self.started_on, self.ended_on)
            .exclude(pk=self.pk)
            .select_related("mso")
            .first()
        )
        if clash:
            raise ValidationError(overlap_message(clash))


def overlap_message(clash):
    until = clash.ended_on.isoformat() if clash.ended_on else "now"
    return (
        f"The practice is already affiliated with {clash.mso.name} from "
        f"{clash.started_on.isoformat()} to {until}; "
        "a practice belongs to at most one MSO at a time."
    )


class AccreditationBody(models.TextChoices):
    AAAHC = "AAAHC", "AAAHC"
    JOINT_COMMISSION = "TJC", "The Joint Commission"
    AAOMS_OAAP = "AAOMS_OAAP", "AAOMS OAAP"
    OTHER = "other", "Other"


class Accreditation(models.Model):
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="accreditations"
    )
    body = models.CharField(max_length=16, choices=AccreditationBody.choices)
    awarded_on = models.DateField(validators=_day_validators())
    expires_on = models.DateField(
        validators=_day_validators(),
        help_text="AAAHC terms run 3 years, 1 year or 6 months from the award.",
    )

    class Meta:
        ordering = ["practice", "-awarded_on"]
        indexes = [models.Index(fields=["practice", "expires_on"], name="accreditation_current")]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("awarded_on")),
                name="accreditation_expires_after_award",
                violation_error_message="An accreditation must expire after it was awarded.",
            ),
            _choices_check(
                "body",
                AccreditationBody,
                "accreditation_body_valid",
                "Choose one of the accreditation bodies.",
            ),
        ]

    def __str__(self):
        return f"{self.get_body_display()} for {self.practice}, until {self.expires_on}"

    def is_current(self, day=None):
        day = day or datetime.date.today()
        return self.awarded_on <= day <= self.expires_on


class QualityDesignation(models.Model):
    """A quality program recognition such as a Center of Excellence."""

    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="quality_designations"
    )
    name = models.CharField(max_length=200, help_text="For example: Center of Excellence.")
    awarded_by = models.CharField(max_length=200)
    awarded_on = models.DateField(validators=_day_validators())
    expires_on = models.DateField(null=True, blank=True, validators=_day_validators())

    class Meta:
        ordering = ["practice", "-awarded_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("awarded_on")),
                name="designation_expires_after_award",
                violation_error_message="A designation must expire after it was awarded.",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.awarded_by}) for {self.practice}"


class SurveyImport(models.Model):
    """One imported survey file; undoing it deletes its responses as a whole."""

    source = models.CharField(max_length=64, help_text="The survey vendor or export name.")
    file_name = models.CharField(max_length=255)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    imported_at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField(default=0, help_text="Responses imported.")
    skipped = models.PositiveIntegerField(
        default=0, help_text="Rows skipped because their response id was already imported."
    )
    has_response_ids = models.BooleanField(default=False)

    class Meta:
        ordering = ["-imported_at"]
        indexes = [models.Index(fields=["checksum"], name="survey_import_checksum")]

    def __str__(self):
        return f"#{self.pk} {self.file_name} ({self.source}, {self.rows} rows)"


SCORE_MESSAGE = "A score is a whole number from 0 to 10."


class SurveyResponse(models.Model):
    """One patient's answer, 0 to 10. The comment, if any, lives in SurveyComment."""

    practice = models.ForeignKey(
        Practice,
        on_delete=models.PROTECT,
        related_name="responses",
        db_index=False,  # covered by the (practice, responded_on, score) index
    )
    responded_on = models.DateField(validators=_day_validators())
    score = models.PositiveSmallIntegerField(validators=[
        MinValueValidator(0, SCORE_MESSAGE), MaxValueValidator(10, SCORE_MESSAGE)
    ])
    source = models.CharField(max_length=64, blank=True)
    # NULL, not "", for "no id": NULLs never collide in the unique constraint below.
    response_id = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001
    survey_import = models.ForeignKey(
        SurveyImport,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="responses",
        db_index=False,  # covered by the (survey_import, line) index
    )
    line = models.PositiveIntegerField(
        null=True, blank=True, help_text="Line of the imported file the response came from."
    )
    # On PostgreSQL the responses are partitioned by ``batch``: 0 is the shared table (entered
    # by hand, imported in small files); a large import is loaded into a table of its own,
    # ``batch`` = its id, indexed and checked as a whole and attached (partners.migrations
    # 0014). The primary key there is (id, batch); ids come from one sequence.
    batch = models.IntegerField(db_default=0, editable=False)

    class Meta:
        indexes = [
            # NPS by practice (and so by MSO through affiliations) by period.
            models.Index(
                fields=["practice", "responded_on", "score"], name="response_practice_day"
            ),
            models.Index(fields=["survey_import", "line"], name="response_import_line"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=10),
                name="response_score_range",
                violation_error_message=SCORE_MESSAGE,
            ),
            models.UniqueConstraint(
                fields=["source", "response_id"],
                condition=Q(response_id__isnull=False),
                name="response_id_unique_per_source",
                violation_error_message="This response id was already imported from this source.",
            ),
        ]

    def __str__(self):
        return f"{self.practice.code} {self.responded_on}: {self.score}"


class SurveyComment(models.Model):
    """Free text from a patient: may hold health information, shown to data admins only."""

    # On PostgreSQL the foreign key is (response_id, batch) to the partitioned responses: the
    # comment names the table its response is in (partners.migrations 0014).
    response = models.OneToOneField(
        SurveyResponse, on_delete=models.CASCADE, primary_key=True, related_name="comment",
        db_constraint=False,
    )  # fmt: skip
    text = models.TextField()
    batch = models.IntegerField(db_default=0, editable=False)

    def __str__(self):
        return f"Comment on response {self.response_id}"

    def save(self, *args, **kwargs):
        self.batch = self.response.batch
        super().save(*args, **kwargs)


class SurveyMapping(models.Model):
    """How one practice's exports from one survey tool are read, saved when an import is
    confirmed and offered on the next upload. Column names only: never any value of a file.
    ``practice`` is empty for files that name each row's practice in a column."""

    tool = models.CharField(max_length=16, choices=SURVEY_TOOLS)
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    score_column = models.CharField(max_length=300)
    date_column = models.CharField(max_length=300)
    id_column = models.CharField(max_length=300, blank=True)
    practice_column = models.CharField(max_length=300, blank=True)
    time_zone = models.CharField(max_length=64, blank=True)
    saved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tool", "practice"], condition=Q(practice__isnull=False),
                name="survey_mapping_unique_per_practice",
            ),
            models.UniqueConstraint(
                fields=["tool"], condition=Q(practice__isnull=True),
                name="survey_mapping_unique_without_practice",
            ),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.get_tool_display()} exports of {self.practice or 'several practices'}"


class _NpsCounts(models.Model):
    promoters = models.PositiveIntegerField(default=0)
    passives = models.PositiveIntegerField(default=0)
    detractors = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True

    @property
    def n(self):
        return self.promoters + self.passives + self.detractors


class PracticeNpsMonth(_NpsCounts):
    """Rollup: response-level counts of one practice in one month, attributed to the MSO the
    practice belonged to on each response's day (``mso`` empty when it had none).

    Derived data, kept equal to the raw responses in the same transaction as every
    change (see ``partners.rollups``); ``manage.py verify_rollups`` checks it.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    mso = models.ForeignKey(MSO, null=True, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")

    class Meta:
        indexes = [
            models.Index(fields=["mso", "month"], name="practice_nps_mso_month"),
            # The practices with no response since a day (the admin's first page, its
            # practice list filter): this year's rows read in order of month, then hashed.
            models.Index(fields=["month", "practice"], name="practice_nps_month_practice"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "month", "mso"],
                condition=Q(mso__isnull=False),
                name="practice_nps_month_unique",
            ),
            models.UniqueConstraint(
                fields=["practice", "month"],
                condition=Q(mso__isnull=True),
                name="practice_nps_month_unaffiliated_unique",
            ),
        ]

    def __str__(self):
        return f"practice {self.practice_id}, MSO {self.mso_id}, {self.month:%Y-%m}: n={self.n}"


class MsoNpsMonth(_NpsCounts):
    """Rollup: response-level counts attributed to one MSO in one month.

    The sum of PracticeNpsMonth over the MSO's practices.

    Reads for MSOs cost MSOs x months, however many responses there are.
    """

    mso = models.ForeignKey(MSO, on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mso", "month"], name="mso_nps_month_unique"),
        ]

    def __str__(self):
        return f"MSO {self.mso_id}, {self.month:%Y-%m}: n={self.n}"


class NPSProvenance(models.TextChoices):
    SELF_REPORTED = "self_reported", "Self-reported by the MSO"


class AggregateNPSSubmission(models.Model):
    """Counts an MSO reports about itself, kept apart from response-level data."""

    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.CASCADE, related_name="nps_submissions"
    )
    mso = models.ForeignKey(
        MSO, null=True, blank=True, on_delete=models.CASCADE, related_name="nps_submissions"
    )
    period_start = models.DateField(validators=_day_validators())
    period_end = models.DateField(validators=_day_validators())
    promoters = models.PositiveIntegerField()
    passives = models.PositiveIntegerField()
    detractors = models.PositiveIntegerField()
    provenance = models.CharField(
        max_length=32, choices=NPSProvenance.choices, default=NPSProvenance.SELF_REPORTED
    )
    source = models.CharField(max_length=300, blank=True, help_text="Where the figures came from.")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "aggregate NPS submission"
        ordering = ["-period_start"]
        indexes = [
            models.Index(fields=["mso", "period_start"], name="aggregate_nps_mso_period"),
            models.Index(fields=["practice", "period_start"], name="aggregate_nps_practice_period"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(practice__isnull=True) & Q(mso__isnull=False))
                | (Q(practice__isnull=False) & Q(mso__isnull=True)),
                name="aggregate_nps_practice_xor_mso",
                violation_error_message="An aggregate submission is for a practice or an MSO, "
                "not both and not neither.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="aggregate_nps_period_order",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(promoters__gt=0) | Q(passives__gt=0) | Q(detractors__gt=0),
                name="aggregate_nps_not_empty",
                violation_error_message="An aggregate submission needs at least one response.",
            ),
            _choices_check(
                "provenance", NPSProvenance, "aggregate_nps_provenance_valid", "Unknown provenance."
            ),
        ]

    def __str__(self):
        whom = self.practice or self.mso
        return f"{whom}, {self.period_start} to {self.period_end} ({self.get_provenance_display()})"


class InterviewProvenance(models.TextChoices):
    MSO_SUPPLIED = "mso_supplied", "Supplied by the MSO"
    INDEPENDENT = "independent", "Independently sourced"


class WouldChooseAgain(models.TextChoices):
    YES = "yes", "Yes"
    UNSURE = "unsure", "Unsure"
    NO = "no", "No"


def _rating_validators(message):
    return [MinValueValidator(1, message), MaxValueValidator(5, message)]


class ReferenceInterview(models.Model):
    """A structured interview with a surgeon partner of an MSO, in the article's order."""

    mso = models.ForeignKey(MSO, on_delete=models.CASCADE, related_name="interviews")
    practice = models.ForeignKey(
        Practice, null=True, blank=True, on_delete=models.SET_NULL, related_name="interviews"
    )
    interviewee = models.CharField(max_length=200)
    years_affiliated = models.PositiveSmallIntegerField(
        validators=[MaxValueValidator(60, "Years affiliated must be between 0 and 60.")]
    )
    provenance = models.CharField(max_length=16, choices=InterviewProvenance.choices)
    consent_to_quote = models.BooleanField(
        default=False, help_text="The interviewee may be quoted by name."
    )
    interviewer = models.CharField(max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    interviewed_on = models.DateField(validators=_day_validators())
    promised = models.TextField("What was promised", blank=True)
    delivered = models.TextField("What was delivered", blank=True)
    trust = models.PositiveSmallIntegerField(
        "Trust in the MSO partner (1-5)",
        validators=_rating_validators("Trust is rated from 1 to 5."),
    )
    would_choose_again = models.CharField(
        "Would make the same decision again", max_length=8, choices=WouldChooseAgain.choices
    )
    advice = models.TextField("Advice for a first-time partner", blank=True)
    autonomy = models.PositiveSmallIntegerField(
        "Clinical autonomy experienced (1-5)",
        validators=_rating_validators("Clinical autonomy is rated from 1 to 5."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-interviewed_on"]
        indexes = [models.Index(fields=["mso", "interviewed_on"], name="interview_mso_day")]
        constraints = [
            models.CheckConstraint(
                condition=Q(trust__gte=1, trust__lte=5),
                name="interview_trust_range",
                violation_error_message="Trust is rated from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(autonomy__gte=1, autonomy__lte=5),
                name="interview_autonomy_range",
                violation_error_message="Clinical autonomy is rated from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(years_affiliated__lte=60),
                name="interview_years_range",
                violation_error_message="Years affiliated must be between 0 and 60.",
            ),
            _choices_check(
                "provenance",
                InterviewProvenance,
                "interview_provenance_valid",
                "Say whether the MSO supplied the reference or it was sourced independently.",
            ),
            _choices_check(
                "would_choose_again",
                WouldChooseAgain,
                "interview_would_choose_again_valid",
                "Answer yes, no or unsure.",
            ),
        ]

    def __str__(self):
        return f"{self.interviewee} on {self.mso} ({self.interviewed_on})"

    def clean(self):
        # A day past LATEST_DAY is refused with the accepted range already.
        if self.interviewed_on and datetime.date.today() < self.interviewed_on <= LATEST_DAY:
            raise ValidationError({"interviewed_on": "The interview date cannot be in the future."})


class PromiseOutcome(models.TextChoices):
    KEPT = "kept", "Kept"
    PARTLY = "partly", "Partly kept"
    BROKEN = "broken", "Broken"


class PromiseItem(models.Model):
    """One line of the promise ledger: what became of a promise in one service area."""

    interview = models.ForeignKey(
        ReferenceInterview, on_delete=models.CASCADE, related_name="promise_ledger"
    )
    service_area = models.CharField(max_length=32, choices=ServiceArea.choices)
    outcome = models.CharField(max_length=8, choices=PromiseOutcome.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["interview", "service_area"]
        constraints = [
            models.UniqueConstraint(
                fields=["interview", "service_area"],
                name="promise_item_unique_area",
                violation_error_message="This service area is already in the interview's ledger.",
            ),
            _choices_check(
                "service_area",
                ServiceArea,
                "promise_item_area_valid",
                "Choose one of the service areas.",
            ),
            _choices_check(
                "outcome", PromiseOutcome, "promise_item_outcome_valid", "Kept, partly or broken."
            ),
        ]

    def __str__(self):
        return f"{self.get_service_area_display()}: {self.get_outcome_display()}"


class ClaimKind(models.TextChoices):
    NPS_ABOVE_EACH_YEAR = "nps_above_each_year", "NPS above X in each of the last N full years"
    NPS_ABOVE_12_MONTHS = "nps_above_12_months", "NPS above X over the last 12 months"
    ACCREDITED_PRACTICES = "accredited_practices", "At least N practices currently accredited"
    SINGLE_SPECIALTY = "single_specialty", "Single-specialty focus"
    FULL_AUTONOMY = "full_autonomy", "Full clinical autonomy"
    OTHER = "other", "Other (not checked automatically)"


class Claim(models.Model):
    """Something an MSO says about itself, to be checked against the evidence."""

    mso = models.ForeignKey(MSO, on_delete=models.CASCADE, related_name="claims")
    statement = models.TextField()
    kind = models.CharField(max_length=32, choices=ClaimKind.choices, default=ClaimKind.OTHER)
    parameters = models.JSONField(
        default=dict,
        blank=True,
        help_text='Figures the check needs, e.g. {"threshold": 80, "years": 3}.',
    )
    source = models.CharField(max_length=300, blank=True, help_text="Where the MSO said it.")
    stated_on = models.DateField(null=True, blank=True, validators=_day_validators())

    class Meta:
        ordering = ["mso", "-stated_on"]
        constraints = [
            _choices_check("kind", ClaimKind, "claim_kind_valid", "Choose one of the claim kinds."),
        ]

    def __str__(self):
        return f"{self.mso}: {self.statement[:60]}"


class BenchmarkKind(models.TextChoices):
    BAND = "band", "NPS band (lower bound, exclusive)"
    AVERAGE = "average", "Industry average"


class Benchmark(models.Model):
    """Reference data with a source and a year: NPS bands and industry averages."""

    key = models.SlugField(max_length=64, help_text="Stable name used by the scorecards.")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=BenchmarkKind.choices)
    value = models.DecimalField(max_digits=6, decimal_places=2)
    source = models.CharField(max_length=300)
    year = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["kind", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["key", "year"],
                name="benchmark_unique_key_year",
                violation_error_message="This benchmark already has a value for that year.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=-100, value__lte=100),
                name="benchmark_value_range",
                violation_error_message="An NPS benchmark lies between -100 and 100.",
            ),
            _choices_check("kind", BenchmarkKind, "benchmark_kind_valid", "Band or average."),
        ]

    def __str__(self):
        return f"{self.name} {self.value} ({self.source}, {self.year})"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# Job kinds of the survey pages; each is run by one task of partners.tasks.
SURVEY_PREVIEW = "survey_preview"
SURVEY_IMPORT = "survey_import"
SURVEY_UNDO = "survey_undo"


class Job(models.Model):
    """Background work and its status, kept here rather than in a Celery result backend.

    The row is created before the task is queued; the task gets only its id.
    ``payload`` holds the job's input and must never hold patient comments.
    """

    kind = models.CharField(max_length=32)
    task = models.CharField(max_length=100, blank=True, help_text="The Celery task that runs it.")
    task_id = models.CharField(
        max_length=36, blank=True, help_text="The id of the latest message sent for it."
    )
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    message = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    sends = models.PositiveSmallIntegerField(default=0, help_text="Times sent to the queue.")
    sent_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker should start it, at the latest."
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["kind", "status"], name="job_kind_status")]
        constraints = [
            # Scorecard recomputation is debounced: at most one waits in the queue.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind="compute_scorecards", status="queued"),
                name="job_one_queued_scorecard_computation",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="job_progress_range"
            ),
            _choices_check("status", JobStatus, "job_status_valid", "Unknown job status."),
        ]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.status})"

    @property
    def is_finished(self):
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class ConsultantProfile(models.Model):
    """How a consultant signs the reports they prepare: a name and a firm, editable by them."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="consultant_profile")  # fmt: skip
    display_name = models.CharField("Name on reports", max_length=200)
    firm = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return f"{self.display_name}, {self.firm}" if self.firm else self.display_name


def consultant_signature(user):
    """(name, firm) a report prepared by ``user`` is signed with: their profile, or their
    full name (or username) and no firm."""
    profile = ConsultantProfile.objects.filter(user=user).first()
    if profile is not None:
        return profile.display_name, profile.firm
    return user.get_full_name() or user.get_username(), ""

