"""The practice import: ``manage.py import_practices`` and ``practice_import.practices_import``."""

import datetime
import io
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from partners import practice_import as services
from partners.models import MSO, Affiliation, Practice, overlap_message
from tests.conftest import ROOT, database_url_for_tests

HEADER = "mso,practice_code,practice_name,city,state,affiliated_since"
HEADER_UNTIL = HEADER + ",affiliated_until"
D = datetime.date


def write(tmp_path, content, name="practices.csv"):
    path = tmp_path / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def run(path):
    """Import through call_command; return what it printed to stdout."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_practices", str(path), stdout=out, stderr=err)
    assert err.getvalue() == ""
    return out.getvalue()


def refused(path, returncode=1):
    """Import a file that must be refused; return the lines of the message."""
    with pytest.raises(CommandError) as info:
        call_command("import_practices", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.returncode == returncode
    return str(info.value).splitlines()


def counts():
    return (MSO.objects.count(), Practice.objects.count(), Affiliation.objects.count())


def spans(code):
    return [
        (a.mso.name, a.started_on, a.ended_on)
        for a in Affiliation.objects.filter(practice__code=code).select_related("mso")
    ]


def summary(msos=0, practices=0, practices_updated=0, affiliations=0, affiliations_updated=0):
    return (
        f"{msos} MSOs created, {practices} practices created, {practices_updated} updated, "
        f"{affiliations} affiliations created, {affiliations_updated} updated."
    )


@pytest.fixture
def stored(db):
    """One practice, currently with Alpha MSO since 2020-01-01."""
    alpha = MSO.objects.create(name="Alpha MSO", slug="alpha-mso")
    practice = Practice.objects.create(code="P1", name="Smith Ortho", city="Austin", state="TX")
    Affiliation.objects.create(practice=practice, mso=alpha, started_on=D(2020, 1, 1))
    return practice


GOOD = (
    HEADER_UNTIL + "\n"
    'Alpha MSO,P1,"Smith, Jones & Lee Orthopedics",Austin,TX,1/2/2020,\n'
    'Alpha MSO,P2,Lone Star Joint Care,"Fort Worth, West",tx,2021-06-15,12/31/2023\n'
    'Beta MSO,P2,Lone Star Joint Care,"Fort Worth, West",TX,1/1/2024,\n'
)


# --- Good files ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: text.encode(), id="utf8"),
        pytest.param(lambda text: text.encode("utf-8-sig"), id="bom"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode(), id="crlf"),
        pytest.param(lambda text: text.replace("\n", "\r\n").encode("utf-8-sig"), id="bom-crlf"),
    ],
)
def test_good_file_creates_msos_practices_and_affiliations(tmp_path, encode):
    out = run(write(tmp_path, encode(GOOD)))

    assert out == f"Imported {tmp_path / 'practices.csv'}: {summary(2, 2, 0, 3, 0)}\n"
    assert sorted(MSO.objects.values_list("name", "slug")) == [
        ("Alpha MSO", "alpha-mso"),
        ("Beta MSO", "beta-mso"),
    ]
    p1 = Practice.objects.get(code="P1")
    assert (p1.name, p1.city, p1.state) == ("Smith, Jones & Lee Orthopedics", "Austin", "TX")
    p2 = Practice.objects.get(code="P2")
    assert (p2.name, p2.city, p2.state) == ("Lone Star Joint Care", "Fort Worth, West", "TX")
    assert spans("P1") == [("Alpha MSO", D(2020, 1, 2), None)]
    assert spans("P2") == [
        ("Alpha MSO", D(2021, 6, 15), D(2023, 12, 31)),
        ("Beta MSO", D(2024, 1, 1), None),
    ]
    # End dates are inclusive.
    assert Affiliation.objects.active_on(D(2023, 12, 31)).get(practice=p2).mso.name == "Alpha MSO"
    assert Affiliation.objects.active_on(D(2024, 1, 1)).get(practice=p2).mso.name == "Beta MSO"


@pytest.mark.django_db
def test_reimporting_the_same_file_changes_nothing(tmp_path):
    path = write(tmp_path, GOOD)
    run(path)
    before = counts()

    assert run(path) == f"Imported {path}: {summary()}\n"
    assert counts() == before


@pytest.mark.django_db
def test_updated_file_closes_an_affiliation_and_moves_the_practice(tmp_path, stored):
    path = write(tmp_path, (
        HEADER_UNTIL + "\n"
        "Alpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,2024-02-29\n"
        "Beta MSO,P1,Smith Ortho,Austin,TX,3/1/2024,\n"
    ))  # fmt: skip

    assert run(path) == f"Imported {path}: {summary(1, 0, 0, 1, 1)}\n"
    assert spans("P1") == [
        ("Alpha MSO", D(2020, 1, 1), D(2024, 2, 29)),
        ("Beta MSO", D(2024, 3, 1), None),
    ]
    assert run(path) == f"Imported {path}: {summary()}\n"


@pytest.mark.django_db
def test_updates_the_practice_name(tmp_path, stored):
    path = write(tmp_path, HEADER + "\nAlpha MSO,P1,Smith & Jones Ortho,Austin,TX,2020-01-01\n")

    assert run(path) == f"Imported {path}: {summary(0, 0, 1, 0, 0)}\n"
    stored.refresh_from_db()
    assert stored.name == "Smith & Jones Ortho"
    assert spans("P1") == [("Alpha MSO", D(2020, 1, 1), None)]


@pytest.mark.django_db
def test_unused_columns_are_reported_as_warnings(tmp_path):
    path = write(tmp_path, (
        "notes," + HEADER + ",\n"
        "call back,Alpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,\n"
    ))  # fmt: skip

    assert run(path).splitlines() == [
        f"Imported {path}: {summary(1, 1, 0, 1, 0)}",
        "Warning: column notes is not used and was ignored",
        "Warning: column 8 has no name and was ignored",
    ]


@pytest.mark.django_db
def test_file_without_until_column_keeps_stored_end_dates(tmp_path, stored):
    Affiliation.objects.filter(practice=stored).update(ended_on=D(2023, 6, 30))
    path = write(tmp_path, HEADER + "\nAlpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01\n")

    assert run(path) == f"Imported {path}: {summary()}\n"
    assert spans("P1") == [("Alpha MSO", D(2020, 1, 1), D(2023, 6, 30))]


@pytest.mark.django_db
def test_empty_until_reopens_a_stored_affiliation(tmp_path, stored):
    Affiliation.objects.filter(practice=stored).update(ended_on=D(2023, 6, 30))
    path = write(tmp_path, HEADER_UNTIL + "\nAlpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,\n")

    assert run(path) == f"Imported {path}: {summary(0, 0, 0, 0, 1)}\n"
    assert spans("P1") == [("Alpha MSO", D(2020, 1, 1), None)]


@pytest.mark.django_db
def test_moves_practices_between_msos_in_one_file(tmp_path):
    """P1 goes from Alpha to Beta while P2 goes from Beta to Alpha: no overlap midway."""
    run(write(tmp_path, (
        HEADER_UNTIL + "\n"
        "Alpha MSO,P1,One,Austin,TX,2020-01-01,\n"
        "Beta MSO,P2,Two,Austin,TX,2020-01-01,\n"
    ), "first.csv"))  # fmt: skip
    path = write(tmp_path, (
        HEADER_UNTIL + "\n"
        "Alpha MSO,P1,One,Austin,TX,2020-01-01,2022-12-31\n"
        "Beta MSO,P1,One,Austin,TX,2023-01-01,\n"
        "Beta MSO,P2,Two,Austin,TX,2020-01-01,2022-12-31\n"
        "Alpha MSO,P2,Two,Austin,TX,2023-01-01,\n"
    ))  # fmt: skip

    assert run(path) == f"Imported {path}: {summary(0, 0, 0, 2, 2)}\n"
    assert spans("P2") == [
        ("Beta MSO", D(2020, 1, 1), D(2022, 12, 31)),
        ("Alpha MSO", D(2023, 1, 1), None),
    ]


# --- Bad files: refused as a whole ------------------------------------------------------

# Each bad file starts with a good line, so a partial import would show in the counts.
OK_LINE = "New MSO,P9,New Practice,Waco,TX,2022-01-01"

BAD_FILES = {
    "missing column": (
        "mso,practice_code,practice_name,city,affiliated_since\n"
        "New MSO,P9,New Practice,Waco,2022-01-01\n",
        ["line 1: missing column state; the first line must name the columns mso, "
         "practice_code, practice_name, city, state, affiliated_since and optionally "
         "affiliated_until"],
    ),
    "missing columns": (
        "New MSO,P9,New Practice,Waco,TX,2022-01-01\n",
        ["line 1: missing columns mso, practice_code, practice_name, city, state, "
         "affiliated_since; the first line must name the columns mso, practice_code, "
         "practice_name, city, state, affiliated_since and optionally affiliated_until"],
    ),
    "duplicate column": (
        HEADER + ",state\n" + OK_LINE + ",TX\n",
        ["line 1: column state appears more than once"],
    ),
    "unknown date format": (
        HEADER_UNTIL + "\n" + OK_LINE + ",\nAlpha MSO,P1,Smith Ortho,Austin,TX,2020.01.01,"
        "31/12/2023\n",
        ["line 3: affiliated_since '2020.01.01' is not a date (use YYYY-MM-DD or M/D/YYYY)",
         "line 3: affiliated_until '31/12/2023' is not a date (use YYYY-MM-DD or M/D/YYYY)"],
    ),
    "end before start": (
        HEADER_UNTIL + "\n" + OK_LINE + ",\nAlpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,"
        "12/31/2019\n",
        ["line 3: affiliated_until 2019-12-31 is before affiliated_since 2020-01-01"],
    ),
    "days outside the evidence's range": (
        HEADER_UNTIL + "\n" + OK_LINE + ",\nAlpha MSO,P1,Smith Ortho,Austin,TX,0020-01-01,"
        "12/31/9999\n",
        ["line 3: affiliated_since 0020-01-01 is outside the days evidence can be dated, "
         "1 January 1950 to 31 December 2100",
         "line 3: affiliated_until 9999-12-31 is outside the days evidence can be dated, "
         "1 January 1950 to 31 December 2100"],
    ),
    "overlap within the file": (
        HEADER_UNTIL + "\n" + OK_LINE + ",\n"
        "Alpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,2024-03-01\n"
        "Beta MSO,P1,Smith Ortho,Austin,TX,2024-03-01,\n",
        ["line 4: practice P1 would be affiliated with Beta MSO from 2024-03-01 to now, while "
         "it is affiliated with Alpha MSO from 2020-01-01 to 2024-03-01 (line 3); a practice "
         "belongs to at most one MSO at a time (affiliated_until is the last day of an "
         "affiliation, so the next one starts the day after)"],
    ),
    "overlap reported on every line": (
        HEADER_UNTIL + "\n"
        "Alpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,\n"
        "Beta MSO,P1,Smith Ortho,Austin,TX,2021-01-01,2021-06-30\n"
        "Gamma MSO,P1,Smith Ortho,Austin,TX,2022-01-01,\n",
        ["line 3: practice P1 would be affiliated with Beta MSO from 2021-01-01 to 2021-06-30, "
         "while it is affiliated with Alpha MSO from 2020-01-01 to now (line 2); a practice "
         "belongs to at most one MSO at a time",
         "line 4: practice P1 would be affiliated with Gamma MSO from 2022-01-01 to now, "
         "while it is affiliated with Alpha MSO from 2020-01-01 to now (line 2); a practice "
         "belongs to at most one MSO at a time"],
    ),
    "repeated affiliation": (
        HEADER + "\n" + OK_LINE + "\n" + OK_LINE + "\n",
        ["line 3: the affiliation of practice P9 with New MSO since 2022-01-01 is already "
         "on line 2; give each affiliation once"],
    ),
    "empty file": ("", ["The file is empty."]),
    "blank lines only": ("\r\n  \n", ["The file is empty."]),
    "header only": (HEADER + "\n", ["The file has a header but no rows."]),
    "header and blank lines": (HEADER + "\n\n,,,,,\n", ["The file has a header but no rows."]),
    "non-UTF-8 bytes": (
        (HEADER + "\n" + OK_LINE + "\nAlpha MSO,P1,Ortop\xe9dica,Austin,TX,2020-01-01\n")
        .encode("latin-1"),
        ["line 3: byte 0xe9 is not UTF-8 text; save the file as CSV UTF-8 and try again"],
    ),
    "UTF-16": (
        (HEADER + "\n" + OK_LINE + "\n").encode("utf-16"),
        ["line 1: the file is UTF-16 text; save it as CSV UTF-8 and try again"],
    ),
    "too many fields": (
        HEADER + "\n" + OK_LINE + "\nAlpha MSO,P1,Smith, Jones Ortho,Austin,TX,2020-01-01\n",
        ["line 3: expected 6 fields as in the header, found 7 (a value that contains a comma "
         "must be in double quotes)"],
    ),
    "too few fields": (
        HEADER + "\n" + OK_LINE + "\nAlpha MSO,P1,Smith Ortho,TX,2020-01-01\n",
        ["line 3: expected 6 fields as in the header, found 5"],
    ),
    # The same dialect and messages as the survey import (partners.csvfiles).
    "unclosed quote": (
        HEADER + "\n" + OK_LINE + '\nAlpha MSO,P1,"Smith Ortho,Austin,TX,2020-01-01\n'
        + OK_LINE + "\n",
        ["line 3: a double quote on this line is not closed before the end of the file"],
    ),
    "quote closed on a later line": (
        HEADER + "\n" + OK_LINE + '\nAlpha MSO,P1,"Smith Ortho,Austin,TX,2020-01-01\n'
        'Beta MSO",Jones Ortho,Austin,TX,2020-01-01\n',
        ["line 3: expected 6 fields as in the header, found 7 (a double quote on this line "
         "is not closed)"],
    ),
    "text after a closing quote": (
        HEADER + "\n" + OK_LINE + '\nAlpha MSO,P1,"Smith" Ortho,Austin,TX,2020-01-01\n'
        "Alpha MSO,P2,Jones Ortho,Austin,TX,2020-1-5\n",
        ["line 3: this is not valid CSV (',' expected after '\"')",
         "line 4: affiliated_since '2020-1-5' is not a date (use YYYY-MM-DD or M/D/YYYY)"],
    ),
    "NUL byte": (
        HEADER + "\n" + OK_LINE + "\nAlpha MSO,P1,Smith\x00Ortho,Austin,TX,2020-01-01\n",
        ["line 3: byte 0x00 (NUL) cannot be stored as text; save the file as CSV UTF-8 and "
         "try again"],
    ),
    "bad state code": (
        HEADER + "\n" + OK_LINE + "\nAlpha MSO,P1,Smith Ortho,Austin,Texas,2020-01-01\n",
        ["line 3: state 'Texas' is not a US state code (use two letters, such as TX)"],
    ),
    "empty values": (
        HEADER + "\n" + OK_LINE + "\n,P1,,Austin,,\n",
        ["line 3: mso is empty", "line 3: practice_name is empty", "line 3: state is empty",
         "line 3: affiliated_since is empty"],
    ),
    "value too long": (
        HEADER + "\n" + OK_LINE + "\nAlpha MSO," + "P" * 65 + ",Smith Ortho,Austin,TX,"
        "2020-01-01\n",
        ["line 3: practice_code is 65 characters long; the limit is 64"],
    ),
    "conflicting practice details": (
        HEADER_UNTIL + "\n" + OK_LINE + ",\n"
        "Alpha MSO,P1,Smith Ortho,Austin,TX,2020-01-01,2021-12-31\n"
        "Beta MSO,P1,Smith Orthopedics,Austin,OK,2022-01-01,\n",
        ["line 4: practice P1 has practice_name 'Smith Orthopedics' and state 'OK' here but "
         "'Smith Ortho' and 'TX' on line 3; every line for a practice must give the same "
         "practice_name, city and state"],
    ),
    "MSO spelled two ways": (
        HEADER + "\n" + OK_LINE + "\nnew  mso,P2,Jones Ortho,Austin,TX,2020-01-01\n",
        ["line 3: MSO 'new  mso' differs from the MSO 'New MSO' (line 2) only in capitals or "
         "spaces; use the same spelling"],
    ),
    "several errors at once": (
        HEADER + "\n" + OK_LINE + "\nAlpha MSO,P1,Smith Ortho,Austin,ZZ,2020-01-01\n"
        "Alpha MSO,P2,Jones Ortho,Austin,TX,2020-02-30\n",
        ["line 3: state 'ZZ' is not a US state code (use two letters, such as TX)",
         "line 4: affiliated_since '2020-02-30' is not a date (use YYYY-MM-DD or M/D/YYYY)"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("content", "errors"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_nothing_is_written(tmp_path, stored, content, errors):
    path = write(tmp_path, content)
    before = counts()

    assert refused(path) == [f"Refused {path}: nothing was imported.", *errors]
    assert counts() == before
    assert spans("P1") == [("Alpha MSO", D(2020, 1, 1), None)]


# The one date rule of every import (partners.csvfiles.parse_date): the same value is refused
# with the same message by the practice, aggregate and survey imports.
NOT_A_DATE_2024_1_5 = "'2024-1-5' is not a date (use YYYY-MM-DD or M/D/YYYY)"


def test_a_one_digit_month_and_day_are_refused_in_the_iso_form(tmp_path, stored):
    bad = write(tmp_path, HEADER + "\n" + OK_LINE + "\nAlpha MSO,P2,Jones,Austin,TX,2024-1-5\n")
    assert refused(bad)[1:] == [f"line 3: affiliated_since {NOT_A_DATE_2024_1_5}"]
    assert spans("P2") == []

    run(write(tmp_path, HEADER + "\nAlpha MSO,P2,Jones,Austin,TX,1/5/2024\n", "us.csv"))
    assert spans("P2") == [("Alpha MSO", D(2024, 1, 5), None)]
    assert Practice.objects.get(code="P1").name == "Smith Ortho"


def test_overlap_with_a_stored_affiliation_is_refused(tmp_path, stored):
    path = write(tmp_path, (
        HEADER_UNTIL + "\n" + OK_LINE + ",\n"
        "Beta MSO,P1,Smith Ortho,Austin,TX,2024-03-01,\n"
    ))  # fmt: skip
    before = counts()

    assert refused(path) == [
        f"Refused {path}: nothing was imported.",
        "line 3: practice P1 would be affiliated with Beta MSO from 2024-03-01 to now, while it "
        "is affiliated with Alpha MSO from 2020-01-01 to now (already stored); a practice "
        "belongs to at most one MSO at a time (to end the stored affiliation, add a line for "
        "Alpha MSO with affiliated_since 2020-01-01 and an affiliated_until)",
    ]
    assert counts() == before


def test_new_start_date_for_the_stored_affiliation_is_refused(tmp_path, stored):
    path = write(tmp_path, HEADER + "\nAlpha MSO,P1,Smith Ortho,Austin,TX,2021-01-01\n")

    assert refused(path)[1:] == [
        "line 2: practice P1 would be affiliated with Alpha MSO from 2021-01-01 to now, while it "
        "is affiliated with Alpha MSO from 2020-01-01 to now (already stored); a practice "
        "belongs to at most one MSO at a time (an affiliation is identified by its MSO and "
        "affiliated_since: to change the stored one, give affiliated_since 2020-01-01)",
    ]


def test_earlier_affiliation_overlapping_a_later_stored_one_is_refused(tmp_path, stored):
    path = write(tmp_path, (
        HEADER_UNTIL + "\nBeta MSO,P1,Smith Ortho,Austin,TX,2019-01-01,2020-01-01\n"
    ))  # fmt: skip

    assert refused(path)[1:] == [
        "line 2: practice P1 would be affiliated with Beta MSO from 2019-01-01 to 2020-01-01, "
        "while it is affiliated with Alpha MSO from 2020-01-01 to now (already stored); a "
        "practice belongs to at most one MSO at a time (affiliated_until is the last day of "
        "an affiliation, so the next one starts the day after)",
    ]


def test_mso_spelled_differently_from_the_stored_one_is_refused(tmp_path, stored):
    path = write(tmp_path, HEADER + "\nALPHA MSO,P2,Jones Ortho,Austin,TX,2020-01-01\n")

    assert refused(path)[1:] == [
        "line 2: MSO 'ALPHA MSO' differs from the MSO 'Alpha MSO' (already stored) only in "
        "capitals or spaces; use the same spelling",
    ]


def test_database_refusal_midway_is_reported_and_rolled_back(tmp_path, stored, monkeypatch):
    """If the stored data changes between the checks and the writes, the database refuses."""
    monkeypatch.setattr(services, "_check_overlaps", lambda rows, existing, errors: None)
    path = write(tmp_path, HEADER + "\n" + OK_LINE + "\nBeta MSO,P1,Smith Ortho,Austin,TX,"
                 "2024-03-01\n")  # fmt: skip
    before = counts()

    assert refused(path)[1:] == [
        "The database refused the import because the stored practices or affiliations "
        "changed while it ran; nothing was imported. Try again."
    ]
    assert counts() == before


@pytest.mark.django_db
def test_unreadable_file_is_a_usage_error(tmp_path):
    assert refused(tmp_path / "missing.csv", returncode=2) == [
        f"Cannot read {tmp_path / 'missing.csv'}: No such file or directory."
    ]
    assert refused(tmp_path, returncode=2) == [f"Cannot read {tmp_path}: Is a directory."]


# --- The database refuses overlaps itself ------------------------------------------------


def test_database_refuses_overlapping_affiliation(stored):
    beta = MSO.objects.create(name="Beta MSO", slug="beta-mso")
    with pytest.raises(IntegrityError), transaction.atomic():
        Affiliation.objects.create(practice=stored, mso=beta, started_on=D(2024, 3, 1))
    # Touching on one day is an overlap too: end dates are inclusive.
    Affiliation.objects.filter(practice=stored).update(ended_on=D(2024, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Affiliation.objects.create(practice=stored, mso=beta, started_on=D(2024, 3, 1))
    # The day after is fine.
    Affiliation.objects.create(practice=stored, mso=beta, started_on=D(2024, 3, 2))
    assert Affiliation.objects.filter(practice=stored).count() == 2


def test_database_refuses_an_update_that_makes_an_overlap(stored):
    Affiliation.objects.filter(practice=stored).update(ended_on=D(2023, 12, 31))
    beta = MSO.objects.create(name="Beta MSO", slug="beta-mso")
    Affiliation.objects.create(practice=stored, mso=beta, started_on=D(2024, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Affiliation.objects.filter(practice=stored, mso__name="Alpha MSO").update(ended_on=None)


def test_full_clean_refuses_overlapping_affiliation(stored):
    beta = MSO.objects.create(name="Beta MSO", slug="beta-mso")
    clash = Affiliation.objects.get(practice=stored)
    affiliation = Affiliation(practice=stored, mso=beta, started_on=D(2024, 3, 1))

    with pytest.raises(ValidationError) as info:
        affiliation.full_clean()
    assert info.value.messages == [overlap_message(clash)]
    assert info.value.messages == [
        "The practice is already affiliated with Alpha MSO from 2020-01-01 to now; "
        "a practice belongs to at most one MSO at a time."
    ]


# --- A real manage.py process ----------------------------------------------------------


def manage(*args):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url_for_tests()}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_process_exit_status_and_output(tmp_path):
    missing = manage("import_practices", str(tmp_path / "missing.csv"))
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr == (
        f"CommandError: Cannot read {tmp_path / 'missing.csv'}: No such file or directory.\n"
    )

    no_argument = manage("import_practices")
    assert no_argument.returncode == 2
    assert "the following arguments are required: file" in no_argument.stderr

    good = write(tmp_path, GOOD, "good.csv")
    ok = manage("import_practices", str(good))
    assert (ok.returncode, ok.stderr) == (0, "")
    assert ok.stdout == f"Imported {good}: {summary(2, 2, 0, 3, 0)}\n"
    assert counts() == (2, 2, 3)

    bad = write(tmp_path, (
        HEADER + "\n" + OK_LINE + "\n"
        "Beta MSO,P1,Smith Ortho,Austin,TX,2024-03-01\n"
        "Alpha MSO,P2,Lone Star Joint Care,Fort Worth,Texas,2021-06-15\n"
    ), "bad.csv")  # fmt: skip
    no = manage("import_practices", str(bad))
    assert no.returncode == 1
    assert no.stdout == ""
    assert no.stderr.splitlines() == [
        f"CommandError: Refused {bad}: nothing was imported.",
        "line 3: practice P1 would be affiliated with Beta MSO from 2024-03-01 to now, while it "
        "is affiliated with Alpha MSO from 2020-01-02 to now (already stored); a practice "
        "belongs to at most one MSO at a time (to end the stored affiliation, add a line for "
        "Alpha MSO with affiliated_since 2020-01-02 and an affiliated_until)",
        "line 4: state 'Texas' is not a US state code (use two letters, such as TX)",
    ]
    assert counts() == (2, 2, 3)
