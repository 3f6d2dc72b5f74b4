from django import forms
from django.core.exceptions import ValidationError

from . import practice_import
from .models import (
    EARLIEST_DAY,
    LATEST_DAY,
    MSO,
    Affiliation,
    InterviewProvenance,
    Practice,
    PromiseItem,
    PromiseOutcome,
    ReferenceInterview,
    ServiceArea,
    WouldChooseAgain,
)

RATING_CHOICES = [(i, str(i)) for i in range(1, 6)]


class BoundedJSONField(forms.JSONField):
    """A JSON form field that refuses a value nested too deeply for the parser (thousands of
    brackets) with a form error; Django's lets the parser's RecursionError through."""

    def to_python(self, value):
        try:
            return super().to_python(value)
        except RecursionError:
            raise ValidationError("This value is nested too deeply; nest it at most a few "
                                  "levels.", code="invalid") from None  # fmt: skip

    def bound_data(self, data, initial):
        try:
            return super().bound_data(data, initial)
        except RecursionError:
            return forms.fields.InvalidJSONInput(data)


class ReferenceInterviewForm(forms.ModelForm):
    """The article's questions in its order, then the promise ledger (a formset beside it)."""

    trust = forms.TypedChoiceField(
        label="Do you trust your MSO partner? (1 = not at all, 5 = completely)",
        choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect,
    )  # fmt: skip
    autonomy = forms.TypedChoiceField(
        label="Clinical autonomy experienced (1 = none, 5 = complete)",
        choices=RATING_CHOICES, coerce=int, widget=forms.RadioSelect,
    )  # fmt: skip

    class Meta:
        model = ReferenceInterview
        fields = [
            "mso", "practice", "interviewee", "years_affiliated", "provenance",
            "consent_to_quote", "interviewer", "interviewed_on",
            "promised", "delivered", "trust", "would_choose_again", "advice", "autonomy",
        ]  # fmt: skip
        labels = {
            "mso": "MSO",
            "practice": "Practice (optional)",
            "interviewee": "Surgeon interviewed",
            "consent_to_quote": "The surgeon agrees to be quoted by name",
            "promised": "What was promised?",
            "delivered": "What was delivered?",
            "would_choose_again": "Would you make the same decision again?",
            "advice": "What advice would you give someone partnering for the first time?",
        }
        widgets = {
            "interviewed_on": forms.DateInput(attrs={
                "type": "date", "min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()}),
            "provenance": forms.RadioSelect,
            "would_choose_again": forms.RadioSelect,
            "promised": forms.Textarea(attrs={"rows": 3}),
            "delivered": forms.Textarea(attrs={"rows": 3}),
            "advice": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mso"].queryset = MSO.objects.order_by("name")
        # Radio buttons without Django's "---------" choice: an answer is required.
        self.fields["provenance"].choices = InterviewProvenance.choices
        self.fields["would_choose_again"].choices = WouldChooseAgain.choices
        mso_id = self.data.get("mso") if self.is_bound else self.initial.get("mso")
        if mso_id is None and self.instance.pk:
            mso_id = self.instance.mso_id
        self.fields["practice"].queryset = practices_of_mso(mso_id)

    def clean(self):
        data = super().clean()
        mso, practice, day = data.get("mso"), data.get("practice"), data.get("interviewed_on")
        if mso and practice and day:
            affiliated = Affiliation.objects.filter(practice=practice, mso=mso).active_on(day)
            if not affiliated.exists():
                raise ValidationError({"practice": (
                    f"{practice.name} was not affiliated with {mso.name} on "
                    f"{day.isoformat()}; choose a practice of that MSO at the interview date, "
                    "or leave it empty."
                )})  # fmt: skip
        return data


def practices_of_mso(mso_id):
    """Practices ever affiliated with the MSO (the form then checks the date)."""
    try:
        mso_id = int(mso_id)
    except (TypeError, ValueError):
        return Practice.objects.none()
    return Practice.objects.filter(affiliations__mso_id=mso_id).distinct().order_by("name")


class PromiseForm(forms.Form):
    """One service area of the ledger; left empty when the promise was not discussed."""

    service_area = forms.ChoiceField(choices=ServiceArea.choices, widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        choices=[("", "Not discussed"), *PromiseOutcome.choices], required=False,
        widget=forms.RadioSelect,
    )  # fmt: skip
    note = forms.CharField(required=False, widget=forms.TextInput(attrs={"size": 40}))

    def clean(self):
        data = super().clean()
        if data.get("note") and not data.get("outcome"):
            self.add_error("outcome", "Say whether this promise was kept, partly kept or broken.")
        return data

    @property
    def area_label(self):
        # A crafted post may carry any value here: show it, do not fail on it.
        value = self["service_area"].value()
        return SERVICE_AREA_LABELS.get(value, "Unknown service area")


SERVICE_AREA_LABELS = dict(ServiceArea.choices)
RELOAD = "Reload the page and try again."


class BasePromiseFormSet(forms.BaseFormSet):
    """One row per service area, at most; rows are hidden inputs, so their errors are named
    here, above the ledger, by row number."""

    default_error_messages = {
        "too_many_forms": (
            "The promise ledger has at most %(num)d rows, one per service area. " + RELOAD
        ),
        "missing_management_form": (
            "The promise ledger was not sent completely (missing or invalid: "
            "%(field_names)s). " + RELOAD
        ),
    }

    def clean(self):
        errors, seen = [], set()
        for row, form in enumerate(self.forms, start=1):
            value = form["service_area"].value()
            if "service_area" in form.errors:
                if value in (None, ""):
                    errors.append(f"Promise ledger row {row}: the service area is missing.")
                else:
                    errors.append(f"Promise ledger row {row}: “{value}” is not a service area.")
            elif value in seen:
                errors.append(
                    f"Promise ledger row {row}: {SERVICE_AREA_LABELS[value]} appears twice; "
                    "each service area appears once."
                )
            seen.add(value)
        if errors:
            raise ValidationError([*errors, RELOAD])


PromiseFormSet = forms.formset_factory(
    PromiseForm, formset=BasePromiseFormSet, extra=0,
    max_num=len(ServiceArea), validate_max=True, absolute_max=len(ServiceArea),
)  # fmt: skip


def promise_formset(*, data=None, interview=None):
    """A row for every service area, filled from the interview's ledger when editing."""
    existing = {}
    if interview is not None and interview.pk:
        existing = {item.service_area: item for item in interview.promise_ledger.all()}
    initial = [
        {"service_area": area, "outcome": existing[area].outcome if area in existing else "",
         "note": existing[area].note if area in existing else ""}
        for area in ServiceArea.values
    ]  # fmt: skip
    return PromiseFormSet(data=data, initial=initial, prefix="ledger")


def save_promise_ledger(interview, formset):
    interview.promise_ledger.all().delete()
    PromiseItem.objects.bulk_create(
        PromiseItem(interview=interview, service_area=f.cleaned_data["service_area"],
                    outcome=f.cleaned_data["outcome"], note=f.cleaned_data["note"])
        for f in formset.forms
        if f.cleaned_data.get("outcome")
    )  # fmt: skip


# --- File imports -----------------------------------------------------------------------------


class PracticeImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"Columns {', '.join(practice_import.PRACTICE_COLUMNS)} and optionally "
            f"{', '.join(practice_import.PRACTICE_OPTIONAL_COLUMNS)}; UTF-8; dates YYYY-MM-DD "
            "or M/D/YYYY."
        ),
    )
