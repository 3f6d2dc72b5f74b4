from django import forms

from partners.models import US_STATES, OwnershipModel, SpecialtyFocus

SORTS = [
    ("total", "Total score"),
    ("nps", "Patient NPS"),
    ("trust", "Surgeon trust"),
    ("practices", "Active practices"),
    ("name", "Name"),
]


class DirectoryForm(forms.Form):
    """The directory's filters; every field is optional and a bad value is ignored."""

    focus = forms.ChoiceField(label="Specialty focus", required=False,
                              choices=[("", "Any"), *SpecialtyFocus.choices])  # fmt: skip
    ownership = forms.ChoiceField(label="Ownership model", required=False,
                                  choices=[("", "Any"), *OwnershipModel.choices])  # fmt: skip
    state = forms.ChoiceField(label="Has practices in", required=False,
                              choices=[("", "Any state"), *US_STATES])  # fmt: skip
    min_nps = forms.IntegerField(label="Patient NPS at least", required=False,
                                 min_value=-100, max_value=100)  # fmt: skip
    min_accreditation = forms.IntegerField(
        label="Accredited practices at least (%)", required=False, min_value=0, max_value=100
    )
    min_autonomy = forms.IntegerField(
        label="Clinical autonomy score at least (0–100)", required=False, min_value=0,
        max_value=100,
    )  # fmt: skip
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS)

    def filters(self):
        """The valid filters as a dict (invalid ones are dropped, with their errors shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v not in (None, "")}
