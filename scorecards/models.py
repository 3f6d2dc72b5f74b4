"""Methodologies (versioned criteria with weights) and immutable scorecard snapshots."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from partners.models import MSO, Job

from .scoring import CRITERIA
from .shortlist import (
    BAD_STATUS,
    CHECKLIST,
    CHECKLIST_CHOICES,
    CHECKLIST_KEYS,
    UNKNOWN_ITEM,
    ChecklistStatus,
)

CRITERION_CHOICES = [(key, key.replace("_", " ").capitalize()) for key in CRITERIA]
CRITERION_DEFINITIONS = {
    "patient_experience": "(NPS + 100) / 2 over all affiliated practices; 30 responses",
    "practice_consistency": "share of practices (each with 30+ responses) above the healthcare "
    "average; 3 practices",
    "surgeon_trust": "mean trust (1 to 5) mapped to 0 to 100; 3 interviews",
    "would_choose_again": "yes = 1, unsure = 0.5, no = 0, as a percentage; 3 interviews",
    "promise_keeping": "kept = 1, partly = 0.5, broken = 0 over the promise ledger; "
    "5 items from 3 interviews",
    "clinical_autonomy": "mean autonomy experienced (1 to 5) mapped to 0 to 100; 3 interviews",
    "clinical_excellence": "share of active affiliated practices with a current accreditation; "
    "1 practice",
    "support_breadth": "share of the service areas offered (self-reported); profile filled",
}
# What each criterion means, in words a surgeon reads on the pages (the formulas above are for
# the methodology: the scorecards page and a report's appendix).
CRITERION_MEANINGS = {
    "patient_experience": "how likely its practices' patients are to recommend them",
    "practice_consistency": "how many of its practices score above the healthcare average",
    "surgeon_trust": "how much its surgeon partners trust it",
    "would_choose_again": "how many of its surgeon partners would make the same decision again",
    "promise_keeping": "how many of the promises made to its surgeon partners were kept",
    "clinical_autonomy": "how much clinical autonomy its surgeon partners actually have",
    "clinical_excellence": "how many of its practices hold a current accreditation",
    "support_breadth": "how many of the service areas it offers, as it says itself",
}


class Methodology(models.Model):
    """A versioned set of criteria with weights that sum to 100.

    A published version never changes: editing one creates the next version, and snapshots
    keep the version they were computed with.
    """

    name = models.CharField(max_length=100, default="MSO Evaluator default")
    version = models.PositiveIntegerField()
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "methodologies"
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"],
                name="methodology_unique_version",
                violation_error_message="This methodology already has that version.",
            ),
        ]

    def __str__(self):
        state = "" if self.published else " (draft)"
        return f"{self.name} v{self.version}{state}"

    def weights(self):
        """{criterion: weight}: one query the first time on this instance, none after."""
        if "_weights" not in self.__dict__:
            self._weights = {c.key: c.weight for c in self.criteria.all()}
        return dict(self._weights)


class MethodologyCriterion(models.Model):
    methodology = models.ForeignKey(Methodology, on_delete=models.CASCADE, related_name="criteria")
    key = models.CharField(max_length=32, choices=CRITERION_CHOICES)
    weight = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["methodology", "-weight", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["methodology", "key"],
                name="methodology_criterion_unique",
                violation_error_message="Each criterion appears once in a methodology.",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=100),
                name="methodology_weight_range",
                violation_error_message="A weight is a whole number from 1 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(key__in=list(CRITERIA)),
                name="methodology_criterion_known",
                violation_error_message="Unknown criterion.",
            ),
        ]

    def __str__(self):
        return f"{self.key}: {self.weight}"

    @property
    def definition(self):
        return CRITERION_DEFINITIONS.get(self.key, "")


class ScorecardSnapshot(models.Model):
    """The immutable result of one methodology over all published MSOs at one data-as-of."""

    methodology = models.ForeignKey(Methodology, on_delete=models.PROTECT, related_name="+")
    data_as_of = models.DateField()
    computed_at = models.DateTimeField(auto_now_add=True)
    # A digest of the evidence and methodology it was computed from: the same digest means
    # nothing changed and no new snapshot is needed.
    fingerprint = models.CharField(max_length=64, unique=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    query_count = models.PositiveIntegerField(default=0)
    # The benchmarks its figures were banded and compared with, as they were when it was
    # computed: {"healthcare_average": float, "bands": [[name, lower bound], ...]}. Pages and
    # reports read these, never the benchmarks table, whose later edits belong to the next one.
    benchmarks = models.JSONField(default=dict)

    class Meta:
        ordering = ["-computed_at", "-id"]
        get_latest_by = ["computed_at", "id"]

    def __str__(self):
        return f"Snapshot #{self.pk} ({self.methodology}, data as of {self.data_as_of})"

    @property
    def bands(self):
        """[(band name, lower bound)] of this snapshot, lowest bound first."""
        return sorted(((name, float(bound)) for name, bound in self.benchmarks.get("bands", [])),
                      key=lambda band: band[1])  # fmt: skip


SUMMARY_KEYS = ("slug", "name", "rank", "total", "coverage", "rank_stability", "ranked", "nps",
                "criteria", "nps_tied_with", "active_practices", "facts")


class MsoScorecard(models.Model):
    """One MSO in one snapshot. ``document`` holds everything shown or exported about it."""

    snapshot = models.ForeignKey(
        ScorecardSnapshot, on_delete=models.CASCADE, related_name="scorecards"
    )
    mso = models.ForeignKey(MSO, on_delete=models.PROTECT, related_name="+")
    rank = models.PositiveIntegerField(null=True, blank=True)
    total = models.FloatField(null=True, blank=True)
    coverage = models.FloatField()
    rank_stability = models.FloatField(null=True, blank=True)
    document = models.JSONField()
    # The keys of ``document`` that lists and rankings read (SUMMARY_KEYS), stored apart: the
    # document also holds every practice, quote and accreditation, and reading keys out of
    # 300 large documents costs a directory page far more than reading 300 small ones.
    summary = models.JSONField(default=dict)

    class Meta:
        ordering = ["snapshot", "rank", "mso__name"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "mso"], name="scorecard_unique_mso"),
            models.CheckConstraint(
                condition=Q(coverage__gte=0, coverage__lte=1), name="scorecard_coverage_range"
            ),
        ]

    def __str__(self):
        return f"{self.mso} in snapshot {self.snapshot_id}"


# --- Shortlist, checklist and priorities: a surgeon's own, private working notes ---


class ShortlistEntry(models.Model):
    """An MSO on a surgeon's shortlist, with the surgeon's private note about it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shortlist_entries"
    )
    mso = models.ForeignKey(MSO, on_delete=models.CASCADE, related_name="+")
    note = models.TextField(blank=True)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "shortlist entries"
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "mso"],
                name="shortlist_entry_unique_mso",
                violation_error_message="This MSO is already on the shortlist.",
            ),
        ]

    def __str__(self):
        return f"{self.mso} on {self.user}'s shortlist"

    def checklist(self):
        """Every checklist item in the table's order with this entry's answer, or None."""
        answers = {answer.item: answer for answer in self.answers.all()}
        return [(item, answers.get(item.key)) for item in CHECKLIST]

    @property
    def answered_count(self):
        return sum(answer.status == ChecklistStatus.ANSWERED for answer in self.answers.all())


class ChecklistAnswer(models.Model):
    """Where the surgeon stands on one checklist question about one shortlisted MSO."""

    entry = models.ForeignKey(ShortlistEntry, on_delete=models.CASCADE, related_name="answers")
    item = models.CharField(max_length=32, choices=CHECKLIST_CHOICES)
    status = models.CharField(
        max_length=16, choices=ChecklistStatus.choices, default=ChecklistStatus.OPEN
    )
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry", "item"]
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "item"],
                name="checklist_answer_unique_item",
                violation_error_message="This checklist item already has an answer.",
            ),
            models.CheckConstraint(
                condition=Q(item__in=list(CHECKLIST_KEYS)),
                name="checklist_answer_item_known",
                violation_error_message=UNKNOWN_ITEM,
            ),
            models.CheckConstraint(
                condition=Q(status__in=ChecklistStatus.values),
                name="checklist_answer_status_valid",
                violation_error_message=BAD_STATUS,
            ),
        ]

    def __str__(self):
        return f"{self.entry.mso}: {self.item} ({self.status})"


class SurgeonPriorities(models.Model):
    """A surgeon's own weighting of the methodology and the must-haves an MSO has to meet.

    ``weights`` maps methodology criterion keys (the keys of ``CRITERION_CHOICES``, such as
    ``"patient_experience"`` or ``"surgeon_trust"``) to whole-number weights.

    ``must_haves`` holds the surgeon's hard requirements, for example::

        {"single_specialty_oms": true, "full_autonomy_terms": true,
         "services": ["equipment_funding"], "min_nps": 50, "min_accreditation_share": 50}
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="surgeon_priorities"
    )
    weights = models.JSONField(default=dict, blank=True)
    must_haves = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "surgeon priorities"

    def __str__(self):
        return f"{self.user}'s priorities"


# --- Consultant reports ---


class PaperSize(models.TextChoices):
    A4 = "a4", "A4"
    LETTER = "letter", "US Letter"


class Report(models.Model):
    """A consultant's PDF report for one client, bound to one snapshot, weights and must-haves.

    Everything a render reads is fixed here or in the snapshot: the MSOs (``msos``, slugs in the
    consultant's order), ``weights``, ``must_haves``, the sections, and ``facts``, the MSOs'
    profile facts as they stood when the report was created (snapshot documents hold the
    figures, not the profile), so rendering it again gives the same text. The render runs as
    ``job`` (a partners Job on the reports queue); the PDF is stored at one path per report.
    """

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports"
    )
    client_name = models.CharField(max_length=200)
    prepared_by = models.CharField(max_length=200, help_text="The name on the cover.")
    firm = models.CharField(max_length=200, blank=True, help_text="The firm on the cover.")
    snapshot = models.ForeignKey(ScorecardSnapshot, on_delete=models.PROTECT, related_name="+")
    msos = models.JSONField(help_text="The MSOs' slugs, in the order chosen.")
    weights = models.JSONField()
    must_haves = models.JSONField(default=dict, blank=True)
    sections = models.JSONField(default=list)
    paper = models.CharField(max_length=8, choices=PaperSize.choices, default=PaperSize.LETTER)
    facts = models.JSONField(default=dict, blank=True)
    job = models.OneToOneField(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="report"
    )
    file = models.FileField(upload_to="reports/", blank=True)
    size = models.PositiveIntegerField(null=True, blank=True, help_text="Bytes.")
    pages = models.PositiveSmallIntegerField(null=True, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="report_user_recent")]
        constraints = [
            models.CheckConstraint(
                condition=Q(paper__in=PaperSize.values), name="report_paper_valid",
                violation_error_message="Choose A4 or US Letter.",
            ),  # fmt: skip
        ]

    def __str__(self):
        return f"Report #{self.pk} for {self.client_name}"

    @property
    def status(self):
        """queued, running, succeeded or failed: the status of its render job."""
        return self.job.status if self.job else "failed"

    @property
    def is_done(self):
        return bool(self.file) and self.job is not None and self.job.status == "succeeded"

    @property
    def download_name(self):
        from django.utils.text import slugify

        return f"mso-report-{slugify(self.client_name) or 'client'}-{self.pk}.pdf"
