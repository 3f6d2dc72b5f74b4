"""CSV exports cannot inject formulas into a spreadsheet; JSON exports stay exact."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from partners.csv_export import csv_export_writer, csv_safe_cell
from scorecards.services import scorecard_compute

from .partners.factories import make_mso

PAYLOAD = "=cmd|' /C calc'!A0"


@pytest.mark.parametrize("value", [PAYLOAD, "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1", "\r=1"])
def test_text_a_spreadsheet_would_run_gets_a_leading_quote(value):
    assert csv_safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Larkspur", "", "a=b", " =1", -3.5, 0, None, 42])
def test_other_cells_and_numbers_stay_as_they_are(value):
    assert csv_safe_cell(value) == value


def test_the_writer_neutralises_every_cell():
    out = io.StringIO()
    csv_export_writer(out).writerows([["name", "nps"], [PAYLOAD, -12.5]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [["name", "nps"],
                                                               ["'" + PAYLOAD, "-12.5"]]


@pytest.mark.django_db
def test_an_mso_named_like_a_formula_is_text_in_the_csv_and_exact_in_the_json():
    make_mso(PAYLOAD, slug="formula")
    scorecard_compute()
    out = io.StringIO()
    call_command("export_scorecard", format="csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["name"] for row in rows] == ["'" + PAYLOAD]
    assert not any(cell.startswith(("=", "+", "@")) for row in rows for cell in row.values())
    out = io.StringIO()
    call_command("export_scorecard", format="json", stdout=out)
    assert [m["name"] for m in json.loads(out.getvalue())["msos"]] == [PAYLOAD]
