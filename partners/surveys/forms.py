"""The survey upload form and the columns form of an export."""

import zoneinfo

from django import forms

from . import formats
from .formats import PLAIN_OPTIONAL, PLAIN_REQUIRED
from .importing import SOURCE_MAX

FORMAT_CHOICES = [("auto", "Detect from the header"), *formats.FORMAT_CHOICES]


class SurveyUploadForm(forms.Form):
    file = forms.FileField(
        label="Survey file",
        help_text=(
            "The export as your survey tool wrote it ("
            + ", ".join(f.label for f in formats.FORMATS.values() if f is not formats.PLAIN)
            + "), as CSV, TSV, Unicode text or Excel (.xlsx); "
            f"or a plain CSV file with the columns {', '.join(PLAIN_REQUIRED)} "
            f"and optionally {', '.join(PLAIN_OPTIONAL)} (dates YYYY-MM-DD or "
            "M/D/YYYY, scores 0 to 10)."
        ),
    )
    source = forms.CharField(
        max_length=SOURCE_MAX,
        help_text=(
            "The survey vendor or export the file comes from. A response is imported once: "
            "rows whose response id was already imported from this source, or (in an export "
            "without ids) whose time and answers were, are skipped."
        ),
    )
    format = forms.ChoiceField(
        label="Survey tool", choices=FORMAT_CHOICES, initial="auto", required=False,
        help_text="Detected from the file's header unless you choose it.",
    )  # fmt: skip
    practice = forms.CharField(
        label="Practice (optional)", required=False, max_length=200,
        help_text="The practice code or name when the whole file is about one practice; "
        "leave empty when a column of the file names each row's practice.",
    )  # fmt: skip


def _time_zones():
    return sorted(zoneinfo.available_timezones())


class SurveyMappingForm(forms.Form):
    """The columns of an export to read, as detected or saved, for the data admin to confirm
    or change. Built from the file's column names."""

    format = forms.ChoiceField(label="Survey tool", choices=formats.FORMAT_CHOICES[:-1])
    score_column = forms.ChoiceField(label="Score column (0 to 10)")
    date_column = forms.ChoiceField(label="Date column")
    time_zone = forms.ChoiceField(
        label="Time zone of the days", required=False,
        help_text="The tool writes its times in UTC; each response counts on its day in this "
        "time zone.",
    )  # fmt: skip
    id_column = forms.ChoiceField(label="Response id column", required=False)
    practice_column = forms.ChoiceField(label="Practice column", required=False)
    practice = forms.CharField(
        label="Or one practice for the whole file", required=False, max_length=200,
        help_text="A practice code or name; used when no practice column is chosen.",
    )  # fmt: skip

    def __init__(self, *args, names=(), **kwargs):
        super().__init__(*args, **kwargs)
        columns = [(n, n) for n in dict.fromkeys(n for n in names if n)]
        self.fields["score_column"].choices = columns
        self.fields["date_column"].choices = columns
        self.fields["id_column"].choices = [("", "None: each row is known by its time and answers"),
                                            *columns]  # fmt: skip
        self.fields["practice_column"].choices = [("", "None: one practice for the whole file"),
                                                  *columns]  # fmt: skip
        self.fields["time_zone"].choices = [(z, z) for z in _time_zones()]

    def clean(self):
        data = super().clean()
        if not data.get("practice_column") and not (data.get("practice") or "").strip():
            self.add_error("practice", "Choose the practice column, or name one practice for "
                                       "the whole file.")  # fmt: skip
        return data

    def mapping(self):
        data = self.cleaned_data
        return formats.Mapping(
            format=data["format"], score_column=data["score_column"],
            date_column=data["date_column"], id_column=data.get("id_column", ""),
            practice_column=data.get("practice_column", ""),
            practice=(data.get("practice") or "").strip() if not data.get("practice_column")
            else "", time_zone=data.get("time_zone", ""),
        )  # fmt: skip
