"""The survey import: ``manage.py import_surveys``, ``manage.py undo_import`` and
``partners.survey_import``. Every test runs on SQLite and on PostgreSQL and expects the same
messages from both."""

import datetime
import hashlib
import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, OutputWrapper
from django.db import connection
from django.utils import timezone

from partners.management.commands.import_surveys import TerminalProgress, describe
from partners.models import MsoNpsMonth, PracticeNpsMonth, SurveyComment, SurveyImport
from partners.models import SurveyResponse as Response
from partners.rollups import rollups_differences
from partners.surveys import formats, importing
from partners.surveys.importing import (
    MAX_ERRORS,
    SurveyImportRefused,
    SurveyImportReport,
    UndoneImport,
    surveys_import,
)
from tests.conftest import ROOT, database_url_for_tests
from tests.partners.factories import affiliate, make_mso, make_practice

D = datetime.date
HEADER = "practice,responded_on,score,response_id,comment"
HEADER_NO_IDS = "practice,responded_on,score,comment"


def write(tmp_path, content, name="surveys.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def run(path, *args):
    """Import through call_command; return the lines printed on stdout."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_surveys", str(path), *args, stdout=out, stderr=err)
    assert err.getvalue() == ""
    assert rollups_differences() == []
    return out.getvalue().splitlines()


def refused(path, *args):
    """Import a file that must be refused: exit status 1, nothing on stdout, nothing written.
    Return the lines printed on stderr."""
    before = counts()
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as info:
        call_command("import_surveys", str(path), *args, stdout=out, stderr=err)
    assert info.value.code == 1
    assert out.getvalue() == ""
    assert counts() == before
    assert rollups_differences() == []
    return err.getvalue().splitlines()


def counts():
    return (Response.objects.count(), SurveyComment.objects.count(), SurveyImport.objects.count())


def imported_as(lines):
    """The import id announced on the last line of the output."""
    return int(lines[-1].split("import #")[1].split(":")[0])


def responses(**filters):
    return list(
        Response.objects.filter(**filters)
        .order_by("survey_import_id", "line")
        .values_list("practice__code", "responded_on", "score", "response_id", "source", "line")
    )


def mso_counts():
    return sorted(MsoNpsMonth.objects.values_list("mso__name", "month", "promoters", "passives",
                                                  "detractors"))  # fmt: skip


@pytest.fixture(autouse=True, params=["shared table", "own tables"])
def _where_imports_go(request, settings):
    """On PostgreSQL every test runs twice: each file imported into the shared response
    table, and each into a table of its own, as a large file is (partners.migrations 0014)."""
    if request.param == "own tables":
        if connection.vendor != "postgresql":
            pytest.skip("SQLite keeps every response in one table")
        settings.SURVEY_OWN_TABLE_ROWS = 1


@pytest.fixture
def stored(db):
    """Practices P-1 (with Larkspur since 2020) and P-2 (no MSO), and one earlier import."""
    p1, p2 = make_practice("P-1"), make_practice("P-2")
    affiliate(p1, make_mso())
    surveys_import(stream=io.BytesIO(
        (HEADER + "\nP-1,2023-05-01,10,OLD-1,Earlier comment\nP-2,2023-05-02,3,OLD-2,\n").encode()
    ), file_name="earlier.csv", source="vendor")  # fmt: skip
    return p1, p2


# --- A good file ---------------------------------------------------------------------------

GOOD = (
    # BOM, CRLF, columns in another order and case, an ignored column, a comment with a quoted
    # comma and line break, both date formats.
    "\ufeffComment,SCORE,Notes,Practice,Responded_On,Response_ID\r\n"
    '"Great care, thank you\r\nI will come back",10,x,P-1,3/5/2024,R-1\r\n'
    ",7,,P-2,2024-03-06,R-2\r\n"
    "\r\n"
    "Too long a wait,2,,P-1,12/31/2023,R-3\r\n"
)


def test_good_file_is_imported(tmp_path, stored):
    path = write(tmp_path, GOOD)
    before = counts()

    lines = run(path, "--source", "acme")

    survey_import_id = SurveyImport.objects.get(source="acme").pk
    assert lines == [
        "Warning: column notes is not used and was ignored",
        "rows: 3",
        "practices: 2",
        "  P-1 Practice P-1 (Springfield, IL; Larkspur Surgical Partners): 2 rows, 2 comments",
        "  P-2 Practice P-2 (Springfield, IL; no MSO today): 1 row, 0 comments",
        "dates: 2023-12-31 to 2024-03-06",
        "NPS of the file: 0.0 (promoters 1, passives 1, detractors 1)",
        f"Imported {path} as import #{survey_import_id}: 3 responses imported.",
    ]
    assert counts() == (before[0] + 3, before[1] + 2, before[2] + 1)
    # Lines as the spreadsheet numbers its rows: the comment's line break stays in row 2.
    assert responses(source="acme") == [
        ("P-1", D(2024, 3, 5), 10, "R-1", "acme", 2),
        ("P-2", D(2024, 3, 6), 7, "R-2", "acme", 3),
        ("P-1", D(2023, 12, 31), 2, "R-3", "acme", 5),
    ]
    # Comments are stored apart, each joined to its own response.
    assert sorted(
        SurveyComment.objects.filter(response__source="acme").values_list(
            "response__response_id", "text"
        )
    ) == [("R-1", "Great care, thank you\nI will come back"), ("R-3", "Too long a wait")]
    # The rollups follow, attributed to the MSO of the response's day.
    assert ("Larkspur Surgical Partners", D(2024, 3, 1), 1, 0, 0) in mso_counts()
    assert ("Larkspur Surgical Partners", D(2023, 12, 1), 0, 0, 1) in mso_counts()
    assert PracticeNpsMonth.objects.get(practice__code="P-2", month=D(2024, 3, 1)).passives == 1


def test_file_without_optional_columns(tmp_path, stored):
    path = write(tmp_path, "score,practice,responded_on\n9,P-1,2024-01-02\n0,P-2,1/3/2024\n")

    lines = run(path)

    assert lines[:-1] == [
        "rows: 2",
        "practices: 2",
        "  P-1 Practice P-1 (Springfield, IL; Larkspur Surgical Partners): 1 row, 0 comments",
        "  P-2 Practice P-2 (Springfield, IL; no MSO today): 1 row, 0 comments",
        "dates: 2024-01-02 to 2024-01-03",
        "NPS of the file: 0.0 (promoters 1, passives 0, detractors 1)",
    ]
    record = SurveyImport.objects.get(pk=imported_as(lines))
    assert (record.rows, record.skipped, record.has_response_ids) == (2, 0, False)
    assert responses(survey_import=record) == [
        ("P-1", D(2024, 1, 2), 9, None, "", 2),
        ("P-2", D(2024, 1, 3), 0, None, "", 3),
    ]
    assert not SurveyComment.objects.filter(response__survey_import=record).exists()


def test_today_is_not_in_the_future(tmp_path, stored):
    today = timezone.localdate()
    path = write(tmp_path, f"{HEADER}\nP-1,{today.isoformat()},9,T-1,\n")

    assert run(path)[-1].endswith(": 1 responses imported.")


def test_dry_run_writes_nothing_and_prints_the_preview(tmp_path, stored):
    path = write(tmp_path, GOOD)
    before, rollups = counts(), mso_counts()

    lines = run(path, "--dry-run", "--source", "acme")

    assert lines == [
        "Warning: column notes is not used and was ignored",
        "rows: 3",
        "practices: 2",
        "  P-1 Practice P-1 (Springfield, IL; Larkspur Surgical Partners): 2 rows, 2 comments",
        "  P-2 Practice P-2 (Springfield, IL; no MSO today): 1 row, 0 comments",
        "dates: 2023-12-31 to 2024-03-06",
        "NPS of the file: 0.0 (promoters 1, passives 1, detractors 1)",
        "Dry run: 3 responses would be imported. Nothing was written.",
    ]
    assert counts() == before
    assert mso_counts() == rollups
    # And the file can then be imported for real.
    assert run(path, "--source", "acme")[-1].endswith(": 3 responses imported.")


def test_dry_run_counts_the_rows_that_would_be_skipped(tmp_path, stored):
    path = write(tmp_path, f"{HEADER}\nP-1,2024-01-02,9,OLD-1,\nP-1,2024-01-03,9,NEW-1,\n")

    assert run(path, "--dry-run", "--source", "vendor")[-1] == (
        "Dry run: 1 responses would be imported, 1 skipped as already imported. "
        "Nothing was written."
    )


def test_import_is_recorded(tmp_path, stored, data_admin):
    data = GOOD.encode()

    report = surveys_import(stream=io.BytesIO(data), file_name="march.csv", source="acme",
                            user=data_admin)  # fmt: skip

    record = SurveyImport.objects.get(pk=report.survey_import_id)
    assert record.imported_by == data_admin
    assert record.file_name == "march.csv"
    assert record.checksum == hashlib.sha256(data).hexdigest() == report.checksum
    assert (record.source, record.rows, record.skipped, record.has_response_ids) == (
        "acme",
        3,
        0,
        True,
    )
    assert timezone.now() - record.imported_at < datetime.timedelta(minutes=1)
    assert Response.objects.filter(survey_import=record).count() == 3


def test_command_records_the_user_and_the_file_name(tmp_path, stored, data_admin):
    path = write(tmp_path, GOOD, "march.csv")

    lines = run(path, "--source", "acme", "--user", "dataadmin")

    record = SurveyImport.objects.get(pk=imported_as(lines))
    assert (record.imported_by, record.file_name) == (data_admin, "march.csv")
    assert record.checksum == hashlib.sha256(path.read_bytes()).hexdigest()


# --- Idempotent: response ids and checksums -------------------------------------------------


def test_same_file_with_response_ids_twice_skips_every_row(tmp_path, stored):
    path = write(tmp_path, GOOD)
    run(path, "--source", "acme")
    before, rollups = counts(), mso_counts()

    lines = run(path, "--source", "acme")

    # Every response is stored already: nothing to import, and nothing is written.
    assert lines[-1] == (
        f"Nothing imported: all 3 responses of {path} were already imported. Nothing was "
        "written."
    )
    assert "already imported before, skipped: 3" in lines
    assert counts() == before
    assert mso_counts() == rollups


def test_known_ids_are_skipped_and_new_ones_imported(tmp_path, stored):
    path = write(tmp_path, (
        HEADER + "\n"
        "P-1,2024-02-01,9,OLD-1,known\n"
        "P-1,2024-02-02,8,NEW-1,new one\n"
        "P-2,2024-02-03,1,OLD-2,\n"
    ))  # fmt: skip

    lines = run(path, "--source", "vendor")

    assert lines[0] == "rows: 3"
    assert lines[-1].endswith(
        ": 1 responses imported, 2 skipped (response id already imported from vendor)."
    )
    record = SurveyImport.objects.get(pk=imported_as(lines))
    assert (record.rows, record.skipped) == (1, 2)
    assert responses(survey_import=record) == [("P-1", D(2024, 2, 2), 8, "NEW-1", "vendor", 3)]
    assert SurveyComment.objects.get(response__response_id="NEW-1").text == "new one"
    # The earlier rows and comments are untouched.
    assert SurveyComment.objects.get(response__response_id="OLD-1").text == "Earlier comment"


def test_an_id_repeated_in_the_file_is_refused_even_if_imported_before(tmp_path, stored):
    # Both of OLD-1's rows would be skipped as imported before: the file is refused all the
    # same, as it is when the id is new (a large file leaves the check to the unique index).
    path = write(tmp_path, (
        HEADER + "\n"
        "P-1,2024-02-02,8,NEW-1,\n"
        "P-1,2024-02-01,9,OLD-1,\n"
        "P-2,2024-02-03,1,NEW-2,\n"
        "P-2,2024-02-04,1,OLD-1,\n"
    ))  # fmt: skip

    assert refused(path, "--source", "vendor") == [
        f"Refused {path}: nothing was imported.",
        "line 5, column response_id: response id 'OLD-1' already appears on line 3",
    ]


def test_same_ids_from_another_source_are_imported(tmp_path, stored):
    path = write(tmp_path, HEADER + "\nP-1,2024-02-01,9,OLD-1,\nP-2,2024-02-03,1,OLD-2,\n")

    lines = run(path, "--source", "other vendor")

    assert lines[-1].endswith(": 2 responses imported.")
    assert Response.objects.filter(response_id="OLD-1").count() == 2


def test_file_without_response_ids_cannot_be_imported_twice(tmp_path, stored):
    path = write(tmp_path, HEADER_NO_IDS + "\nP-1,2024-02-01,9,fine\nP-2,2024-02-03,1,\n")
    first = imported_as(run(path, "--source", "acme"))
    record = SurveyImport.objects.get(pk=first)
    when = timezone.localtime(record.imported_at).strftime("%Y-%m-%d %H:%M")
    message = (
        f"This file was already imported as import #{first} (surveys.csv, {when}). "
        "Undo that import first to import it again."
    )

    assert refused(path, "--source", "acme") == [f"Refused {path}: nothing was imported.", message]
    # The same bytes under another name or source are the same responses.
    copy = write(tmp_path, path.read_bytes(), "copy.csv")
    assert refused(copy, "--source", "other") == [f"Refused {copy}: nothing was imported.",
                                                  message]  # fmt: skip
    assert refused(copy, "--dry-run")[1:] == [message]


def test_repeated_file_names_who_imported_it(stored, data_admin):
    data = (HEADER_NO_IDS + "\nP-1,2024-02-01,9,\n").encode()
    report = surveys_import(stream=io.BytesIO(data), file_name="feb.csv", user=data_admin)
    record = SurveyImport.objects.get(pk=report.survey_import_id)
    when = timezone.localtime(record.imported_at).strftime("%Y-%m-%d %H:%M")

    with pytest.raises(SurveyImportRefused) as info:
        surveys_import(stream=io.BytesIO(data), file_name="feb.csv")
    assert info.value.report_lines() == [
        f"This file was already imported as import #{record.pk} (feb.csv, {when} by dataadmin). "
        "Undo that import first to import it again."
    ]


def test_file_with_some_rows_without_id_cannot_be_imported_twice(tmp_path, stored):
    """Rows without an id could not be recognised: the checksum guards them."""
    path = write(tmp_path, HEADER + "\nP-1,2024-02-01,9,ID-1,\nP-2,2024-02-03,1,,\n")
    first = imported_as(run(path))

    assert f"as import #{first} (surveys.csv" in refused(path)[1]


# --- Undo --------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_on_a_terminal_the_command_shows_the_reading_then_each_stage(tmp_path, stored):
    out, err = io.StringIO(), _Terminal()
    call_command("import_surveys", str(write(tmp_path, GOOD)), stdout=out, stderr=err)
    shown = err.getvalue()
    assert shown.startswith("\rReading surveys.csv: ")
    assert shown.endswith(
        "\rReading surveys.csv: 100%\nChecking the file as a whole…\nWriting 3 responses…"
        "\nUpdating the NPS rollups…"
        "\nSaving: the database checks every response before it commits…\n"
    )
    assert "Imported" in out.getvalue()


def test_on_a_terminal_the_undo_command_first_says_what_it_undoes(tmp_path, stored):
    survey_import_id = imported_as(run(write(tmp_path, GOOD)))
    err = _Terminal()
    call_command("undo_import", str(survey_import_id), stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == f"Undoing import #{survey_import_id} (surveys.csv, 3 responses)…\n"


def test_big_counts_are_printed_with_thousands_separators():
    report = SurveyImportReport(
        file_name="big.csv", source="v", rows=1_250_000, imported=1_249_000, skipped=1_000,
        practices=10_000, promoters=500_000, passives=400_000, detractors=349_000,
    )  # fmt: skip
    assert describe(report)[0] == "rows: 1,250,000"
    assert describe(report)[1] == "already imported before, skipped: 1,000"
    assert describe(report)[2] == "practices: 10,000"
    assert "(promoters 500,000, passives 400,000, detractors 349,000)" in describe(report)[-1]
    assert report.summary().startswith("1,249,000 responses imported, 1,000 skipped")


def test_the_terminal_progress_is_not_in_the_error_colour():
    terminal = OutputWrapper(_Terminal())
    terminal.style_func = lambda text: f"\x1b[31m{text}\x1b[0m"  # as on a real terminal
    progress = TerminalProgress(terminal, name="s.csv", total=10)
    progress(10)
    progress.stage("Writing 3 responses", 10)
    progress.done()
    assert terminal._out.getvalue() == "\rReading s.csv: 100%\nWriting 3 responses…\n"


def test_the_undo_summary_counts_with_separators_and_singulars():
    assert UndoneImport(7, "big.csv", 1_250_000, 1).summary() == (
        "Undid import #7 (big.csv): 1,250,000 responses and 1 comment deleted"
    )
    assert UndoneImport(8, "one.csv", 1, 0).summary() == (
        "Undid import #8 (one.csv): 1 response and 0 comments deleted"
    )


def test_undo_removes_responses_comments_and_record(tmp_path, stored):
    before, rollups = counts(), mso_counts()
    path = write(tmp_path, GOOD)
    survey_import_id = imported_as(run(path, "--source", "acme"))
    assert mso_counts() != rollups

    out = io.StringIO()
    call_command("undo_import", str(survey_import_id), stdout=out)

    assert out.getvalue() == (
        f"Undid import #{survey_import_id} (surveys.csv): 3 responses and 2 comments deleted.\n"
    )
    assert counts() == before
    assert not SurveyImport.objects.filter(pk=survey_import_id).exists()
    assert mso_counts() == rollups
    assert rollups_differences() == []
    # The earlier import is untouched, and the file can be imported again.
    assert responses(source="vendor")[0][3] == "OLD-1"
    assert run(path, "--source", "acme")[-1].endswith(": 3 responses imported.")


def test_undo_of_a_file_without_ids_allows_importing_it_again(tmp_path, stored):
    path = write(tmp_path, HEADER_NO_IDS + "\nP-1,2024-02-01,9,fine\n")
    survey_import_id = imported_as(run(path))
    call_command("undo_import", str(survey_import_id), stdout=io.StringIO())
    assert rollups_differences() == []

    assert run(path)[-1].endswith(": 1 responses imported.")


def test_undo_everything_empties_the_rollups(stored):
    for record in SurveyImport.objects.all():
        call_command("undo_import", str(record.pk), stdout=io.StringIO())

    assert counts() == (0, 0, 0)
    assert not PracticeNpsMonth.objects.exists()
    assert not MsoNpsMonth.objects.exists()
    assert rollups_differences() == []


@pytest.mark.django_db
def test_undo_of_an_unknown_import_is_a_usage_error():
    with pytest.raises(CommandError) as info:
        call_command("undo_import", "999999", stdout=io.StringIO())
    assert info.value.returncode == 2
    assert str(info.value) == "There is no survey import #999999."


# --- Bad files: refused as a whole --------------------------------------------------------

# Each bad file starts with a good line, so a partial import would show in the counts.
OK = "P-1,2024-01-15,9,N-1,fine"
NOT_A_DATE = "is not a date (use YYYY-MM-DD or M/D/YYYY)"
NOT_UTF8 = "is not UTF-8 text; save the file as CSV UTF-8 and try again"
MUST_NAME = (
    "the first line must name the columns practice, responded_on, score and optionally "
    "response_id, comment"
)

BAD_FILES = {
    "unknown practice code": (
        f"{HEADER}\n{OK}\nP-404,2024-01-15,9,N-2,\n",
        ["line 3, column practice: unknown practice code 'P-404'"],
    ),
    "practice code missing": (
        f"{HEADER}\n{OK}\n,2024-01-15,9,N-2,\n",
        ["line 3, column practice: the practice code is missing"],
    ),
    "score missing": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,,N-2,\nP-1,2024-01-15,  ,N-3,\n",
        ["line 3, column score: the score is missing",
         "line 4, column score: the score is missing"],
    ),
    "score not an integer or out of range": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,10.5,N-2,\nP-1,2024-01-15,ten,N-3,\n"
        "P-1,2024-01-15,-1,N-4,\nP-1,2024-01-15,11,N-5,\nP-1,2024-01-15,99999999999999999999,,\n",
        ["line 3, column score: '10.5' is not a whole number from 0 to 10",
         "line 4, column score: 'ten' is not a whole number from 0 to 10",
         "line 5, column score: -1 is outside the scale 0 to 10",
         "line 6, column score: 11 is outside the scale 0 to 10",
         "line 7, column score: 99999999999999999999 is outside the scale 0 to 10"],
    ),
    "unparseable dates": (
        f"{HEADER}\n{OK}\nP-1,2024-02-30,9,N-2,\nP-1,31/12/2024,9,N-3,\nP-1,yesterday,9,N-4,\n"
        "P-1,2024-1-5,9,N-5,\nP-1,,9,N-6,\n",
        [f"line 3, column responded_on: '2024-02-30' {NOT_A_DATE}",
         f"line 4, column responded_on: '31/12/2024' {NOT_A_DATE}",
         f"line 5, column responded_on: 'yesterday' {NOT_A_DATE}",
         f"line 6, column responded_on: '2024-1-5' {NOT_A_DATE}",
         "line 7, column responded_on: the date is missing"],
    ),
    "future dates": (
        f"{HEADER}\n{OK}\nP-1,2999-01-01,9,N-2,\nP-1,12/31/2999,9,N-3,\n",
        ["line 3, column responded_on: 2999-01-01 is in the future",
         "line 4, column responded_on: 2999-12-31 is in the future"],
    ),
    "dates before any evidence": (  # a spreadsheet's day zero, a year typed with two digits
        f"{HEADER}\n{OK}\nP-1,1900-01-01,9,N-2,\nP-1,1/5/0024,9,N-3,\n",
        ["line 3, column responded_on: 1900-01-01 is outside the days evidence can be dated, "
         "1 January 1950 to 31 December 2100",
         "line 4, column responded_on: 0024-01-05 is outside the days evidence can be dated, "
         "1 January 1950 to 31 December 2100"],
    ),
    "too many fields": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,9,N-2,Nice, thanks\n",
        ["line 3: expected 5 fields as in the header, found 6 (a value that contains a comma "
         "must be in double quotes)"],
    ),
    "too few fields": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,9\n",
        ["line 3: expected 5 fields as in the header, found 3"],
    ),
    "quote not closed in a middle column": (
        f'{HEADER}\n{OK}\nP-1,"2024-01-15,9,N-2,\n{OK}\n',
        ["line 3: a double quote on this line is not closed before the end of the file"],
    ),
    "quote not closed in the last column": (
        f'{HEADER}\n{OK}\nP-1,2024-01-15,9,N-2,"Nice\n{OK}\n',
        ["line 3: a double quote on this line is not closed before the end of the file"],
    ),
    "text after a closing quote": (
        f'{HEADER}\n{OK}\nP-1,2024-01-15,9,N-2,"Nice" visit\nP-1,2024-01-15,x,N-3,\n',
        ["line 3: this is not valid CSV (',' expected after '\"')",
         "line 4, column score: 'x' is not a whole number from 0 to 10"],
    ),
    "bytes that are not UTF-8": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,9,N-2,Ortop\xe9dica\n".encode("latin-1"),
        [f"line 3, column comment: byte 0xe9 {NOT_UTF8}"],
    ),
    "bytes that are not UTF-8 and other problems on the line": (
        f"{HEADER}\n{OK}\nP-\xe9,2024-01-15,11,N-\xe9,\nP-2,2024-01-15,x,N-3,\n".encode("latin-1"),
        [f"line 3, column practice: byte 0xe9 {NOT_UTF8}",
         "line 3, column score: 11 is outside the scale 0 to 10",
         f"line 3, column response_id: byte 0xe9 {NOT_UTF8}",
         "line 4, column score: 'x' is not a whole number from 0 to 10"],
    ),
    "NUL bytes": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,9,N\x00-2,\nP-1,2024-01-15,9,N-3,Fi\x00ne\n",
        ["line 3, column response_id: byte 0x00 (NUL) cannot be stored as text; save the file "
         "as CSV UTF-8 and try again",
         "line 4, column comment: byte 0x00 (NUL) cannot be stored as text; save the file as "
         "CSV UTF-8 and try again"],
    ),
    "bytes that are not UTF-8 in the header": (
        f"practice,responded_on,score,r\xe9ponse\n{OK}\n".encode("latin-1"),
        [f"line 1, column 4: byte 0xe9 {NOT_UTF8}"],
    ),
    "missing column": (
        f"practice,responded_on,response_id\n{OK}\n",
        [f"line 1: missing column score; {MUST_NAME}", f"line 1: {formats.EXPORTS_NEED}"],
    ),
    "missing columns": (
        f"{OK}\n",
        [f"line 1: missing columns practice, responded_on, score; {MUST_NAME}",
         f"line 1: {formats.EXPORTS_NEED}"],
    ),
    "column named twice": (
        f"{HEADER},Score\n{OK},9\n",
        ["line 1: column score appears more than once"],
    ),
    "missing and repeated columns": (
        f"practice,score,Score\n{OK}\n",
        [f"line 1: missing column responded_on; {MUST_NAME}",
         "line 1: column score appears more than once", f"line 1: {formats.EXPORTS_NEED}"],
    ),
    "quote not closed in the header": (
        f'\n"practice,responded_on,score\n{OK}\n',
        ["line 2: a double quote on this line is not closed before the end of the file"],
    ),
    "empty file": ("", ["The file is empty."]),
    "BOM only": ("\ufeff", ["The file is empty."]),
    "blank lines only": ("\r\n  \n,,\n", ["The file is empty."]),
    "header only": (f"{HEADER}\r\n", ["The file has a header but no rows."]),
    "header and blank lines": (
        f"{HEADER}\n\n,,,,\n , ,,,\n", ["The file has a header but no rows."]
    ),
    "response id repeated in the file": (
        f"{HEADER}\n{OK}\nP-2,2024-01-16,9,N-2,\nP-2,2024-01-17,9,N-1,\nP-2,2024-01-17,9,N-2,\n"
        "P-2,2024-01-17,9,N-1,\n",
        ["line 4, column response_id: response id 'N-1' already appears on line 2",
         "line 5, column response_id: response id 'N-2' already appears on line 3",
         "line 6, column response_id: response id 'N-1' already appears on line 2"],
    ),
    "response id too long": (
        f"{HEADER}\n{OK}\nP-1,2024-01-15,9,{'R' * 101},\n",
        ["line 3, column response_id: the response id is 101 characters long; the limit is 100"],
    ),
    # All the problems of a line are reported, from Python and from SQL, by line then column.
    "every problem of a line": (
        f"{HEADER}\n{OK}\nP-404,2024-02-30,ten,N-1,\n",
        ["line 3, column practice: unknown practice code 'P-404'",
         f"line 3, column responded_on: '2024-02-30' {NOT_A_DATE}",
         "line 3, column score: 'ten' is not a whole number from 0 to 10",
         "line 3, column response_id: response id 'N-1' already appears on line 2"],
    ),
    "ordered by line then by the column's place in the header": (
        "Response_ID,score,practice,responded_on\nA,9,P-1,2024-01-01\nB,x,P-404,2024-01-01\n"
        "A,1,P-1,2999-01-01\nC,1,P-404,2024-01-01\n",
        ["line 3, column score: 'x' is not a whole number from 0 to 10",
         "line 3, column practice: unknown practice code 'P-404'",
         "line 4, column response_id: response id 'A' already appears on line 2",
         "line 4, column responded_on: 2999-01-01 is in the future",
         "line 5, column practice: unknown practice code 'P-404'"],
    ),
    "a long value is shortened in the message": (
        f"{HEADER}\n{OK}\nP-1,{'2024' * 30},9,N-2,\n",
        [f"line 3, column responded_on: '2024202420242024202420242024202420242...' {NOT_A_DATE}"],
    ),
}  # fmt: skip


@pytest.mark.parametrize(("content", "errors"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_file_is_refused_and_nothing_is_written(tmp_path, stored, content, errors):
    path = write(tmp_path, content)

    assert refused(path) == [f"Refused {path}: nothing was imported.", *errors]


# The one date rule of every import (partners.csvfiles.parse_date): the same value is refused
# with the same message by the practice, aggregate and survey imports.
NOT_A_DATE_2024_1_5 = "'2024-1-5' is not a date (use YYYY-MM-DD or M/D/YYYY)"


def test_a_one_digit_month_and_day_are_refused_in_the_iso_form(tmp_path, stored):
    bad = write(tmp_path, f"{HEADER}\n{OK}\nP-1,2024-1-5,9,N-2,\n")
    assert refused(bad)[1:] == [f"line 3, column responded_on: {NOT_A_DATE_2024_1_5}"]

    run(write(tmp_path, f"{HEADER}\nP-2,1/5/2024,9,N-2,\n", "us.csv"), "--source", "us")
    assert responses(source="us") == [("P-2", D(2024, 1, 5), 9, "N-2", "us", 2)]


@pytest.mark.parametrize("dry_run", [False, True])
def test_bad_file_is_refused_by_the_service(stored, dry_run):
    before = counts()
    data = f"{HEADER}\n{OK}\nP-1,2024-01-15,11,N-2,\n".encode()

    with pytest.raises(SurveyImportRefused) as info:
        surveys_import(stream=io.BytesIO(data), file_name="x.csv", dry_run=dry_run)
    assert info.value.report_lines() == ["line 3, column score: 11 is outside the scale 0 to 10"]
    assert info.value.error_count == 1
    assert counts() == before


def test_more_than_a_thousand_errors_lists_the_first_thousand(tmp_path, stored):
    path = write(tmp_path, HEADER + "\n" + "".join(
        f"P-1,2024-01-15,{11 + n},N-{n},\n" for n in range(1500)
    ))  # fmt: skip

    lines = refused(path)

    assert len(lines) == 1 + MAX_ERRORS + 1
    assert lines[1] == "line 2, column score: 11 is outside the scale 0 to 10"
    assert lines[MAX_ERRORS] == "line 1001, column score: 1010 is outside the scale 0 to 10"
    assert lines[-1] == "... and 500 more errors."


def test_first_thousand_errors_merge_python_and_sql_checks(tmp_path, stored):
    """Errors found while reading and errors found in SQL are listed together, in order."""
    path = write(tmp_path, HEADER + "\n" + "".join(
        "P-1,2024-01-15,x,SAME,\n" for _ in range(1200)
    ))  # fmt: skip

    lines = refused(path)

    score = "column score: 'x' is not a whole number from 0 to 10"
    repeated = "column response_id: response id 'SAME' already appears on line 2"
    assert lines[1:6] == [
        f"line 2, {score}",
        f"line 3, {score}",
        f"line 3, {repeated}",
        f"line 4, {score}",
        f"line 4, {repeated}",
    ]
    assert lines[MAX_ERRORS] == f"line 502, {score}"
    # 1,200 bad scores and 1,199 repeated ids.
    assert lines[-1] == f"... and {1200 + 1199 - MAX_ERRORS} more errors."


@pytest.mark.django_db
def test_unreadable_file_is_a_usage_error(tmp_path):
    for path, reason in ((tmp_path / "missing.csv", "No such file or directory"),
                         (tmp_path, "Is a directory")):  # fmt: skip
        with pytest.raises(CommandError) as info:
            call_command("import_surveys", str(path), stdout=io.StringIO())
        assert info.value.returncode == 2
        assert str(info.value) == f"Cannot read {path}: {reason}."


@pytest.mark.django_db
def test_unknown_user_is_a_usage_error(tmp_path):
    with pytest.raises(CommandError) as info:
        call_command("import_surveys", str(write(tmp_path, GOOD)), "--user", "nobody")
    assert info.value.returncode == 2
    assert str(info.value) == "There is no user nobody."


def test_source_name_too_long_is_a_usage_error(tmp_path, stored):
    path = write(tmp_path, GOOD)
    with pytest.raises(CommandError) as info:
        call_command("import_surveys", str(path), "--source", "s" * 65)
    assert info.value.returncode == 2
    assert str(info.value) == "--source is longer than 64 characters."
    # The service refuses it too, for the other callers.
    with pytest.raises(SurveyImportRefused) as info:
        surveys_import(stream=io.BytesIO(GOOD.encode()), file_name="x.csv", source="s" * 65)
    assert info.value.report_lines() == ["The source name is longer than 64 characters."]


@pytest.mark.django_db(transaction=True)
def test_practice_deleted_during_the_import_is_refused(monkeypatch):
    """If a practice disappears between the check and the insert, the database refuses."""
    make_practice("P-1")
    real = importing._Rows.__init__

    def with_a_vanished_practice(self, *args):
        real(self, *args)
        self.practices.ids = {"P-1": 10**9}

    monkeypatch.setattr(importing._Rows, "__init__", with_a_vanished_practice)

    with pytest.raises(SurveyImportRefused) as info:
        surveys_import(stream=io.BytesIO(f"{HEADER}\n{OK}\n".encode()), file_name="x.csv")
    assert info.value.report_lines() == [
        "The database refused the import because the stored practices or responses changed "
        "while it ran; nothing was imported. Try again."
    ]
    assert counts() == (0, 0, 0)


# --- Streaming -----------------------------------------------------------------------------


class OnlyRead:
    """A non-seekable stream that makes its rows as they are read and only offers read()."""

    def __init__(self, rows):
        self.rows, self.made, self.buffer = rows, 0, b"practice,responded_on,score\n"
        self.largest_read = self.total = 0

    def read(self, size):
        self.largest_read = max(self.largest_read, size)
        while len(self.buffer) < size and self.made < self.rows:
            self.buffer += b"P-1,2024-01-15,9\nP-2,1/16/2024,5\n" * 500
            self.made += 1000
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        self.total += len(data)
        return data


def test_file_is_read_as_a_stream(stored):
    stream = OnlyRead(rows=30_000)
    progress = []

    report = surveys_import(stream=stream, file_name="stream.csv", progress=progress.append)

    assert (report.rows, report.imported, report.promoters, report.detractors) == (
        30_000,
        30_000,
        15_000,
        15_000,
    )
    assert stream.largest_read <= 1 << 20
    assert progress == sorted(progress) and progress[-1] == stream.total
    assert Response.objects.filter(survey_import_id=report.survey_import_id).count() == 30_000
    assert rollups_differences() == []


# --- A real manage.py process --------------------------------------------------------------


def manage(*args):
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": database_url_for_tests()}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_process_exit_status_and_output(tmp_path):
    make_practice("P-1")
    make_practice("P-2")

    missing = manage("import_surveys", str(tmp_path / "missing.csv"))
    assert (missing.returncode, missing.stdout) == (2, "")
    assert missing.stderr == (
        f"CommandError: Cannot read {tmp_path / 'missing.csv'}: No such file or directory.\n"
    )
    unknown_option = manage("import_surveys", str(tmp_path / "x.csv"), "--bogus")
    assert unknown_option.returncode == 2
    assert "error: unrecognized arguments: --bogus" in unknown_option.stderr
    no_file = manage("import_surveys")
    assert no_file.returncode == 2
    assert "the following arguments are required: file" in no_file.stderr

    bad = write(tmp_path, f"{HEADER}\n{OK}\nP-404,2024-01-15,ten,N-2,\nP-1,2024-01-15,9,N-1,\n",
                "bad.csv")  # fmt: skip
    no = manage("import_surveys", str(bad))
    assert (no.returncode, no.stdout) == (1, "")
    assert no.stderr.splitlines() == [
        f"Refused {bad}: nothing was imported.",
        "line 3, column practice: unknown practice code 'P-404'",
        "line 3, column score: 'ten' is not a whole number from 0 to 10",
        "line 4, column response_id: response id 'N-1' already appears on line 2",
    ]
    assert counts() == (0, 0, 0)

    good = write(tmp_path, GOOD, "good.csv")
    ok = manage("import_surveys", str(good), "--source", "acme")
    assert (ok.returncode, ok.stderr) == (0, "")
    survey_import_id = SurveyImport.objects.get().pk
    assert ok.stdout.splitlines()[-1] == (
        f"Imported {good} as import #{survey_import_id}: 3 responses imported."
    )
    assert counts() == (3, 2, 1)
    assert rollups_differences() == []

    undo = manage("undo_import", str(survey_import_id))
    assert (undo.returncode, undo.stderr) == (0, "")
    assert counts() == (0, 0, 0)
    assert rollups_differences() == []
    assert manage("undo_import", str(survey_import_id)).returncode == 2
