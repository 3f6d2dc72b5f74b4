from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join

from partners.models import US_STATES, OwnershipModel, ServiceArea, SpecialtyFocus

SORTS = [
    ("total", "Total score"),
    ("nps", "Patient NPS"),
    ("trust", "Surgeon trust"),
    ("practices", "Active practices"),
    ("name", "Name"),
]


class QuickSelect(forms.Select):
    """A single <select> written in Python: Django renders each option through a template of
    its own, which costs the directory ~10 ms a request for its 70 options."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = "" if value is None else str(value)
        options = format_html_join(
            "", '<option value="{}"{}>{}</option>',
            ((key, " selected" if str(key) == chosen else "", label)
             for key, label in self.choices),
        )  # fmt: skip
        return format_html("<select{}>{}</select>",
                           flatatt(self.build_attrs(self.attrs, {**(attrs or {}), "name": name})),
                           options)  # fmt: skip


class DirectoryForm(forms.Form):
    """The directory's filters; every field is optional and a bad value is ignored."""

    focus = forms.ChoiceField(label="Specialty focus", required=False,
                              choices=[("", "Any"), *SpecialtyFocus.choices],
                              widget=QuickSelect)  # fmt: skip
    ownership = forms.ChoiceField(label="Ownership model", required=False,
                                  choices=[("", "Any"), *OwnershipModel.choices],
                                  widget=QuickSelect)  # fmt: skip
    state = forms.ChoiceField(label="Has practices in", required=False,
                              choices=[("", "Any state"), *US_STATES],
                              widget=QuickSelect)  # fmt: skip
    min_nps = forms.IntegerField(label="Patient NPS at least", required=False,
                                 min_value=-100, max_value=100)  # fmt: skip
    min_accreditation = forms.IntegerField(
        label="Accredited practices at least (%)", required=False, min_value=0, max_value=100
    )
    min_autonomy = forms.IntegerField(
        label="Clinical autonomy score at least (0–100)", required=False, min_value=0,
        max_value=100,
    )  # fmt: skip
    sort = forms.ChoiceField(label="Sort by", required=False, choices=SORTS, widget=QuickSelect)

    def filters(self):
        """The valid filters as a dict (invalid ones are dropped, with their errors shown)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: v for k, v in data.items() if v not in (None, "")}


class PrioritiesForm(forms.Form):
    """A surgeon's weights (one per criterion of the methodology) and must-haves."""

    single_specialty_oms = forms.BooleanField(
        label="Oral and maxillofacial surgery only (single specialty)", required=False)
    full_autonomy = forms.BooleanField(
        label="Full clinical autonomy, as its partners experience it", required=False)
    services = forms.MultipleChoiceField(
        label="Services it must offer", required=False, choices=ServiceArea.choices,
        widget=forms.CheckboxSelectMultiple)
    min_nps = forms.IntegerField(label="Patient NPS at least", required=False, min_value=-100,
                                 max_value=100)
    min_accreditation_share = forms.IntegerField(
        label="Accredited practices at least (%)", required=False, min_value=0, max_value=100)

    MUST_HAVES = ("single_specialty_oms", "full_autonomy", "services", "min_nps",
                  "min_accreditation_share")  # fmt: skip

    def __init__(self, *args, criteria, **kwargs):
        """``criteria``: [(key, label, methodology weight)] in the methodology's order."""
        super().__init__(*args, **kwargs)
        self.criteria = criteria
        for key, label, weight in criteria:
            self.fields[f"weight_{key}"] = forms.IntegerField(
                label=label, min_value=0, max_value=100, initial=weight,
                widget=forms.NumberInput(attrs={"step": 5}),
            )

    @classmethod
    def initial_from(cls, *, weights, must_haves):
        return {**{f"weight_{k}": v for k, v in weights.items()},
                **{k: must_haves.get(k) for k in cls.MUST_HAVES}}  # fmt: skip

    def weight_fields(self):
        return [self[f"weight_{key}"] for key, _, _ in self.criteria]

    def must_have_fields(self):
        return [self[name] for name in self.MUST_HAVES]

    def clean(self):
        data = super().clean()
        if self.criteria and not any(data.get(f"weight_{k}") for k, _, _ in self.criteria):
            raise forms.ValidationError("Give at least one criterion a weight above 0.")
        return data

    def weights(self):
        return {key: self.cleaned_data[f"weight_{key}"] for key, _, _ in self.criteria}

    def must_haves(self):
        return {k: self.cleaned_data[k] for k in self.MUST_HAVES
                if self.cleaned_data.get(k) not in (None, False, "", [])}  # fmt: skip
