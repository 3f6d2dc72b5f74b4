"""The aggregate NPS import: ``manage.py import_aggregates`` and ``aggregates_import``."""

import datetime
import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from partners.aggregate_import import aggregates_import
from partners.models import AggregateNPSSubmission, NPSProvenance
from tests.conftest import ROOT, database_url_for_tests
from tests.partners.factories import affiliate, make_mso, make_practice

HEADER = "practice,mso,period_start,period_end,promoters,passives,detractors,source"
D = datetime.date


def write(tmp_path, content, name="aggregates.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def run(path, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_aggregates", str(path), *args, stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def refused(path, returncode=1):
    """Import a file that must be refused; return the lines of the message."""
    with pytest.raises(CommandError) as info:
        call_command("import_aggregates", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.returncode == returncode
    return str(info.value).splitlines()


def stored_rows():
    return sorted(
        (s.practice.code if s.practice else "", s.mso.slug if s.mso else "",
         s.period_start, s.period_end, s.promoters, s.passives, s.detractors, s.provenance,
         s.source)
        for s in AggregateNPSSubmission.objects.select_related("practice", "mso")
    )  # fmt: skip


@pytest.fixture
def stored(db):
    """Two MSOs and a practice of Alpha's."""
    alpha = make_mso("Alpha MSO", slug="alpha-mso")
    make_mso("Beta Partners", slug="beta")
    affiliate(make_practice("P1"), alpha)
    return alpha


GOOD = (
    HEADER + "\n"
    "P1,,2024-01-01,2024-03-31,40,10,5,Alpha quarterly report\n"
    ',Alpha MSO,1/1/2024,12/31/2024,400,90,60,"Deck, slide 12"\n'
    ",beta,2024-07-01,2024-07-01,1,0,0,\n"
)


# --- Good files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode(), id="utf8"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("utf-8-sig"), id="bom-crlf"),
    ],
)
def test_good_file_is_imported_as_self_reported(tmp_path, stored, encode):
    path = write(tmp_path, encode(GOOD))

    assert run(path) == (
        f"Imported {path}: 3 self-reported submissions (1 for practices, 2 for MSOs).\n"
    )
    self_reported = NPSProvenance.SELF_REPORTED
    assert stored_rows() == [
        ("", "alpha-mso", D(2024, 1, 1), D(2024, 12, 31), 400, 90, 60, self_reported,
         "Deck, slide 12"),
        ("", "beta", D(2024, 7, 1), D(2024, 7, 1), 1, 0, 0, self_reported, ""),
        ("P1", "", D(2024, 1, 1), D(2024, 3, 31), 40, 10, 5, self_reported,
         "Alpha quarterly report"),
    ]  # fmt: skip


def test_columns_in_any_order_and_case_with_one_target_column(tmp_path, stored):
    path = write(tmp_path, (
        "Detractors,PERIOD_END,Period_Start,passives,promoters,MSO,notes\n"
        "3,2024-06-30,2024-04-01,7,20,  alpha   mso ,ignored\n"
        "0,2024-06-30,2024-04-01,0,1,BETA,\n"
    ))  # fmt: skip

    assert run(path).splitlines() == [
        f"Imported {path}: 2 self-reported submissions (0 for practices, 2 for MSOs).",
        "Warning: column notes is not used and was ignored",
    ]
    assert [row[1:7] for row in stored_rows()] == [
        ("alpha-mso", D(2024, 4, 1), D(2024, 6, 30), 20, 7, 3),
        ("beta", D(2024, 4, 1), D(2024, 6, 30), 1, 0, 0),
    ]


def test_submission_that_counts_for_no_mso_is_imported_with_a_warning(tmp_path, stored):
    practice = make_practice("P2")
    affiliate(practice, stored, D(2024, 2, 1), D(2024, 2, 29))
    path = write(tmp_path, (
        HEADER + "\n"
        "P2,,2024-02-01,2024-02-29,1,2,3,\n"  # with Alpha throughout
        "P2,,2024-01-01,2024-03-31,4,5,6,\n"  # without an MSO for a while
        "P2,,2024-06-01,2024-06-30,7,8,9,\n"  # without an MSO
    ))  # fmt: skip

    assert run(path).splitlines() == [
        f"Imported {path}: 3 self-reported submissions (3 for practices, 0 for MSOs).",
        "Warning: line 3: practice P2 was not with one MSO from 2024-01-01 to 2024-03-31, so "
        "this submission counts for the practice but for no MSO",
        "Warning: line 4: practice P2 was not with one MSO from 2024-06-01 to 2024-06-30, so "
        "this submission counts for the practice but for no MSO",
    ]
    assert AggregateNPSSubmission.objects.count() == 3


def test_a_period_may_end_today(tmp_path, stored):
    today = timezone.localdate()
    path = write(tmp_path, f"{HEADER}\nP1,,{today},{today},1,2,3,\n")

    run(path)
    assert AggregateNPSSubmission.objects.get().period_end == today


def test_dry_run_checks_and_writes_nothing(tmp_path, stored):
    path = write(tmp_path, GOOD)

    assert run(path, "--dry-run") == (
        f"Checked {path}: 3 self-reported submissions (1 for practices, 2 for MSOs) "
        "would be imported; nothing was written.\n"
    )
    assert AggregateNPSSubmission.objects.count() == 0


def test_same_figures_for_another_period_or_target_are_not_duplicates(tmp_path, stored):
    run(write(tmp_path, GOOD, "first.csv"))
    path = write(tmp_path, (
        HEADER + "\n"
        "P1,,2024-01-01,2024-03-30,40,10,5,\n"  # another period
        ",alpha-mso,2024-01-01,2024-03-31,40,10,5,\n"  # the MSO, not the practice
        "P1,,2024-01-01,2024-03-31,40,10,6,\n"  # other counts
    ))  # fmt: skip

    run(path)
    assert AggregateNPSSubmission.objects.count() == 6


# --- Bad files: refused as a whole --------------------------------------------------------

# Each bad file starts with a good line, so a partial import would show in the counts.
OK_LINE = "P1,,2023-01-01,2023-12-31,100,20,10,"
FUTURE = timezone.localdate() + datetime.timedelta(days=1)

BAD_FILES = {
    "missing column": (
        "practice,period_start,period_end,promoters,passives\nP1,2023-01-01,2023-12-31,1,2\n",
        ["line 1: missing column detractors; the first line must name the columns practice or "
         "mso, period_start, period_end, promoters, passives, detractors and optionally source"],
    ),
    "no practice or mso column": (
        "period_start,period_end,promoters,passives,detractors\n2023-01-01,2023-12-31,1,2,3\n",
        ["line 1: missing column practice or mso; the first line must name the columns "
         "practice or mso, period_start, period_end, promoters, passives, detractors and "
         "optionally source"],
    ),
    "duplicate column": (
        HEADER + ",promoters\n" + OK_LINE + ",1\n",
        ["line 1: column promoters appears more than once"],
    ),
    "empty file": ("", ["The file is empty."]),
    "header only": (HEADER + "\r\n\r\n", ["The file has a header but no rows."]),
    "non-UTF-8 bytes": (
        (HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,1,2,3,Encuesta \xfanica\n")
        .encode("latin-1"),
        ["line 3: byte 0xfa is not UTF-8 text; save the file as CSV UTF-8 and try again"],
    ),
    "UTF-16": (
        (HEADER + "\n" + OK_LINE + "\n").encode("utf-16"),
        ["line 1: the file is UTF-16 text; save it as CSV UTF-8 and try again"],
    ),
    "too many fields": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,1,200,2,3,\n",
        ["line 3: expected 8 fields as in the header, found 9 (a value that contains a comma "
         "must be in double quotes)"],
    ),
    "quote not closed": (
        HEADER + "\n" + OK_LINE + '\nP1,,2024-01-01,2024-03-31,1,2,3,"Survey\n' + OK_LINE + "\n",
        ["line 3: a double quote on this line is not closed before the end of the file"],
    ),
    "NUL byte": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,1,2,3,Sur\x00vey\n",
        ["line 3: byte 0x00 (NUL) cannot be stored as text; save the file as CSV UTF-8 and "
         "try again"],
    ),
    "both practice and mso": (
        HEADER + "\n" + OK_LINE + "\nP1,Alpha MSO,2024-01-01,2024-03-31,1,2,3,\n",
        ["line 3: both practice 'P1' and mso 'Alpha MSO' are given; a submission is for a "
         "practice or for an MSO, so fill in one of the two"],
    ),
    "neither practice nor mso": (
        HEADER + "\n" + OK_LINE + "\n ,,2024-01-01,2024-03-31,1,2,3,\n",
        ["line 3: practice and mso are both empty; give a practice code or an MSO"],
    ),
    "practice missing": (
        "practice,period_start,period_end,promoters,passives,detractors\n"
        "P1,2023-01-01,2023-12-31,1,2,3\n,2024-01-01,2024-03-31,1,2,3\n",
        ["line 3, column practice: the practice code is missing"],
    ),
    "mso missing": (
        "mso,period_start,period_end,promoters,passives,detractors\n"
        "beta,2023-01-01,2023-12-31,1,2,3\n,2024-01-01,2024-03-31,1,2,3\n",
        ["line 3, column mso: the MSO is missing (give its name or slug)"],
    ),
    "unknown practice": (
        HEADER + "\n" + OK_LINE + "\nP404,,2024-01-01,2024-03-31,1,2,3,\n",
        ["line 3, column practice: unknown practice code 'P404'"],
    ),
    "unknown MSO": (
        HEADER + "\n" + OK_LINE + "\n,Gamma MSO,2024-01-01,2024-03-31,1,2,3,\n",
        ["line 3, column mso: unknown MSO 'Gamma MSO' (give its name or slug)"],
    ),
    "bad dates": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024.01.01,31/3/2024,1,2,3,\n",
        ["line 3, column period_start: '2024.01.01' is not a date (use YYYY-MM-DD or M/D/YYYY)",
         "line 3, column period_end: '31/3/2024' is not a date (use YYYY-MM-DD or M/D/YYYY)"],
    ),
    "impossible date": (
        HEADER + "\n" + OK_LINE + "\nP1,,2023-02-29,2023-03-31,1,2,3,\n",
        ["line 3, column period_start: '2023-02-29' is not a date (use YYYY-MM-DD or M/D/YYYY)"],
    ),
    "missing dates": (
        HEADER + "\n" + OK_LINE + "\nP1,,,,1,2,3,\n",
        ["line 3, column period_start: the date is missing",
         "line 3, column period_end: the date is missing"],
    ),
    "end before start": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-04-01,3/31/2024,1,2,3,\n",
        ["line 3, column period_end: 2024-03-31 is before period_start 2024-04-01"],
    ),
    "end in the future": (
        HEADER + "\n" + OK_LINE + f"\nP1,,2024-01-01,{FUTURE.isoformat()},1,2,3,\n",
        [f"line 3, column period_end: {FUTURE.isoformat()} is in the future"],
    ),
    "start before any evidence": (
        HEADER + "\n" + OK_LINE + "\nP1,,1900-01-01,2024-03-31,1,2,3,\n",
        ["line 3, column period_start: 1900-01-01 is outside the days evidence can be dated, "
         "1 January 1950 to 31 December 2100"],
    ),
    "counts that are not whole numbers": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,12.5,ten,1e3,\n",
        ["line 3, column promoters: '12.5' is not a whole number",
         "line 3, column passives: 'ten' is not a whole number",
         "line 3, column detractors: '1e3' is not a whole number"],
    ),
    "negative, missing and too large counts": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,-4,,2147483648,\n",
        ["line 3, column promoters: -4 is negative; counts start at 0",
         "line 3, column passives: the count is missing",
         "line 3, column detractors: 2147483648 is too large (at most 2147483647)"],
    ),
    "all counts zero": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,0,0,0,\n",
        ["line 3: promoters, passives and detractors are all 0; a submission needs at least "
         "one response"],
    ),
    "source too long": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,1,2,3," + "s" * 301 + "\n",
        ["line 3, column source: 301 characters long; the limit is 300"],
    ),
    "repeated in the file": (
        HEADER + "\n" + OK_LINE + "\n,beta,2024-01-01,2024-03-31,1,2,3,\n"
        + OK_LINE + "other source\n",
        ["line 4: the submission (practice P1, 2023-01-01 to 2023-12-31, promoters 100, "
         "passives 20, detractors 10) is already on line 2; give each submission once"],
    ),
    "several errors on several lines": (
        HEADER + "\n" + OK_LINE + "\nP1,,2024-01-01,2024-03-31,0,0,0,\n"
        "P2,,2024-01-01,2024-03-31,1,2,3,\n,alpha,2024-01-01,2024-03-31,1,x,3,\n",
        ["line 3: promoters, passives and detractors are all 0; a submission needs at least "
         "one response",
         "line 4, column practice: unknown practice code 'P2'",
         "line 5, column passives: 'x' is not a whole number"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("content", "errors"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_nothing_is_written(tmp_path, stored, content, errors):
    run(write(tmp_path, GOOD, "good.csv"))
    before = stored_rows()
    path = write(tmp_path, content)

    assert refused(path) == [f"Refused {path}: nothing was imported.", *errors]
    assert stored_rows() == before


def test_exact_duplicate_of_a_stored_submission_is_refused(tmp_path, stored):
    run(write(tmp_path, GOOD, "good.csv"))
    day = timezone.localtime(AggregateNPSSubmission.objects.first().submitted_at).date()
    path = write(tmp_path, (
        HEADER + "\n" + OK_LINE + "\n"
        ",Alpha MSO,2024-01-01,2024-12-31,400,90,60,another source\n"  # same figures, by name
        "P1,,1/1/2024,3/31/2024,40,10,5,\n"
    ))  # fmt: skip
    before = stored_rows()

    assert refused(path) == [
        f"Refused {path}: nothing was imported.",
        "line 3: the submission (MSO Alpha MSO, 2024-01-01 to 2024-12-31, promoters 400, "
        f"passives 90, detractors 60) was already imported on {day.isoformat()}; it is not "
        "imported twice",
        "line 4: the submission (practice P1, 2024-01-01 to 2024-03-31, promoters 40, "
        f"passives 10, detractors 5) was already imported on {day.isoformat()}; it is not "
        "imported twice",
    ]
    assert stored_rows() == before


def test_reimporting_the_same_file_is_refused(tmp_path, stored):
    path = write(tmp_path, GOOD)
    run(path)
    before = stored_rows()

    assert len(refused(path)) == 4  # the heading and each of the three lines
    assert stored_rows() == before


# The one date rule of every import (partners.csvfiles.parse_date): the same value is refused
# with the same message by the practice, aggregate and survey imports.
NOT_A_DATE_2024_1_5 = "'2024-1-5' is not a date (use YYYY-MM-DD or M/D/YYYY)"


def test_a_one_digit_month_and_day_are_refused_in_the_iso_form(tmp_path, stored):
    bad = write(tmp_path, HEADER + "\n" + OK_LINE + "\nP1,,2024-1-5,2024-03-31,1,2,3,\n")
    assert refused(bad)[1:] == [f"line 3, column period_start: {NOT_A_DATE_2024_1_5}"]
    assert stored_rows() == []

    run(write(tmp_path, HEADER + "\nP1,,1/5/2024,3/31/2024,1,2,3,\n", "us.csv"))
    assert [row[:4] for row in stored_rows()] == [("P1", "", D(2024, 1, 5), D(2024, 3, 31))]


def test_mso_matching_two_msos_must_be_given_by_slug(tmp_path, stored):
    make_mso("Beta", slug="beta-two")  # its name is the slug of Beta Partners
    path = write(tmp_path, HEADER + "\n,beta,2024-01-01,2024-03-31,1,2,3,\n")

    assert refused(path)[1:] == [
        "line 2, column mso: 'beta' could be the MSO 'Beta' and 'Beta Partners'; give its slug"
    ]
    run(write(tmp_path, HEADER + "\n,beta-two,2024-01-01,2024-03-31,1,2,3,\n", "slug.csv"))
    assert AggregateNPSSubmission.objects.get().mso.name == "Beta"


def test_unreadable_file_is_a_usage_error(tmp_path, stored):
    assert refused(tmp_path / "missing.csv", returncode=2) == [
        f"Cannot read {tmp_path / 'missing.csv'}: No such file or directory."
    ]


def test_service_refusal_lists_every_error(stored):
    from partners.csvfiles import ImportRefused

    with pytest.raises(ImportRefused) as info:
        aggregates_import(data=(HEADER + "\nP9,,2024-01-01,2024-03-31,0,0,0,\n").encode())
    assert [(e.line, e.column) for e in info.value.errors] == [(2, "")]
    assert AggregateNPSSubmission.objects.count() == 0


# --- A real manage.py process -------------------------------------------------------------


def manage(*args):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url_for_tests()}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_process_exit_status_and_output(tmp_path):
    alpha = make_mso("Alpha MSO", slug="alpha-mso")
    make_mso("Beta Partners", slug="beta")
    affiliate(make_practice("P1"), alpha)

    missing = manage("import_aggregates", str(tmp_path / "missing.csv"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (
        f"CommandError: Cannot read {tmp_path / 'missing.csv'}: No such file or directory.\n"
    )

    good = write(tmp_path, GOOD, "good.csv")
    ok = manage("import_aggregates", str(good))
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout == (
        f"Imported {good}: 3 self-reported submissions (1 for practices, 2 for MSOs).\n"
    )

    again = manage("import_aggregates", str(good))
    assert (again.returncode, again.stdout) == (1, "")
    assert again.stderr.splitlines()[0] == f"CommandError: Refused {good}: nothing was imported."
    assert AggregateNPSSubmission.objects.count() == 3
