"""The report builder's form: the client, 2 to 12 MSOs, the snapshot, weights, must-haves,
sections and paper size. Weights and must-haves are the compare page's (PrioritiesForm)."""

from django import forms

from partners.formatting import day_text
from partners.models import ConsultantProfile

from ..forms import PrioritiesForm
from ..models import CRITERION_CHOICES, PaperSize
from .content import MAX_MSOS, MIN_MSOS, SECTIONS
from .services import TOO_FEW_MSOS, TOO_MANY_MSOS, WEIGHTS_NOT_100

METHODOLOGY, OWN = "methodology", "own"


def snapshot_label(snapshot):
    return (f"#{snapshot.pk}: data as of {day_text(snapshot.data_as_of)}, "
            f"{snapshot.methodology.name} v{snapshot.methodology.version}")  # fmt: skip


class SnapshotField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return snapshot_label(obj)


class ReportForm(PrioritiesForm):
    client_name = forms.CharField(label="Client", max_length=200,
                                  help_text="The surgeon or practice the report is for.")
    prepared_by = forms.CharField(label="Prepared by", max_length=200, required=False,
                                  help_text="The name on the cover; yours when left empty.")
    firm = forms.CharField(label="Firm", max_length=200, required=False,
                           help_text="The firm on the cover.")
    msos = forms.MultipleChoiceField(
        label=f"MSOs ({MIN_MSOS} to {MAX_MSOS})", widget=forms.CheckboxSelectMultiple,
        error_messages={"required": TOO_FEW_MSOS})  # fmt: skip
    snapshot = SnapshotField(label="Snapshot", queryset=None, empty_label=None,
                             help_text="The latest by default; older snapshots stay available.")
    weights_from = forms.ChoiceField(
        label="Weights", widget=forms.RadioSelect, initial=METHODOLOGY,
        choices=[(METHODOLOGY, "The methodology's weights"),
                 (OWN, "The client's own weights (below; they must add up to 100)")])  # fmt: skip
    sections = forms.MultipleChoiceField(
        label="Sections", widget=forms.CheckboxSelectMultiple, choices=SECTIONS,
        initial=[key for key, _ in SECTIONS],
        error_messages={"required": "Choose at least one section."},
        help_text="The cover and the table of contents are always included.")  # fmt: skip
    paper = forms.ChoiceField(label="Paper", widget=forms.RadioSelect,
                              choices=PaperSize.choices, initial=PaperSize.LETTER)

    def __init__(self, *args, snapshots, mso_choices, methodology_weights, **kwargs):
        labels = dict(CRITERION_CHOICES)
        criteria = [(k, labels[k], w) for k, w in methodology_weights.items()]
        super().__init__(*args, criteria=criteria, **kwargs)
        self.methodology_weights = methodology_weights
        for key, weight in methodology_weights.items():  # what the page shows while chosen
            self.fields[f"weight_{key}"].widget.attrs["data-methodology"] = weight
        self.fields["snapshot"].queryset = snapshots
        self.fields["snapshot"].initial = snapshots.first()
        self.fields["msos"].choices = mso_choices
        # The form's fields in the page's order; PrioritiesForm's come after the snapshot.
        order = ["client_name", "prepared_by", "firm", "msos", "snapshot", "weights_from"]
        self.order_fields(order + [n for n in self.fields if n not in order])

    def clean_msos(self):
        slugs = self.cleaned_data["msos"]
        if len(slugs) < MIN_MSOS:
            raise forms.ValidationError(TOO_FEW_MSOS)
        if len(slugs) > MAX_MSOS:
            raise forms.ValidationError(TOO_MANY_MSOS)
        return slugs

    def clean(self):
        data = super().clean()
        if data.get("weights_from") == OWN:
            total = sum(data.get(f"weight_{k}") or 0 for k in self.methodology_weights)
            if total != 100:
                raise forms.ValidationError(WEIGHTS_NOT_100.format(total=total))
        return data

    def report_weights(self):
        if self.cleaned_data["weights_from"] == OWN:
            return self.weights()
        return dict(self.methodology_weights)

    def report_inputs(self):
        data = self.cleaned_data
        return {"client_name": data["client_name"], "prepared_by": data["prepared_by"],
                "firm": data["firm"], "snapshot": data["snapshot"],
                "slugs": data["msos"], "weights": self.report_weights(),
                "must_haves": self.must_haves(), "sections": data["sections"],
                "paper": data["paper"]}  # fmt: skip


class ConsultantProfileForm(forms.ModelForm):
    class Meta:
        model = ConsultantProfile
        fields = ["display_name", "firm"]
        help_texts = {"display_name": "As a client should read it on the cover.",
                      "firm": "Your firm, if you work for one."}

