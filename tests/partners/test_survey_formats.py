"""Survey tools' exports, read as they are: ``partners.surveys`` and the import command.

The sample files in ``samples/`` were written from the tools' documented layouts, with invented
people; the tests save some of them again as XLSX and as UTF-16 text, as a data admin's Excel
would. Each format is imported end to end (rollups, idempotency, undo), a bad row is refused
with the line number the spreadsheet shows, and the personal data in the files (a marker name
and e-mail) is found in no table afterwards."""

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection

from partners.models import SurveyComment, SurveyImport
from partners.models import SurveyResponse as Response
from partners.rollups import rollups_differences
from partners.surveys.formats import Mapping, formats_detect, parse_stamp, score_from_choice
from partners.surveys.importing import SurveyImportRefused, survey_import_undo, surveys_import
from partners.surveys.reading import sniff_delimiter
from tests.partners.factories import affiliate, make_mso, make_practice

SAMPLES = Path(__file__).parent / "samples"
D = datetime.date
MARKERS = ("zz.marker.patient@example.org", "Markerby", "203.0.113.77")


@pytest.fixture
def practices(db):
    oak = make_practice("OAK-01", name="Oakridge Oral Surgery")
    bay = make_practice("BAY-02", name="Bayside Jaw Center")
    affiliate(oak, make_mso("Northwind Dental Partners"))
    return oak, bay


def sample(name):
    return (SAMPLES / name).read_bytes()


def as_utf16(data):
    return data.decode("utf-8").encode("utf-16")  # with a byte order mark, as Excel writes it


def as_xlsx(data, stamps_as_dates=False):
    """The CSV ``data`` saved as a workbook: numbers as numbers, and (optionally) the stamps of
    the first column as date cells, the way a spreadsheet holds them."""
    import csv

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for number, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8")))):
        cells = []
        for position, value in enumerate(row):
            if number and value.isdigit():
                value = int(value)
            elif number and position == 0 and stamps_as_dates and "GMT" not in value:
                value = datetime.datetime.strptime(value, "%m/%d/%Y %H:%M:%S")
            cells.append(value)
        sheet.append(cells)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def load(data, name="export.csv", source="", **mapping):
    return surveys_import(stream=io.BytesIO(data), file_name=name, source=source,
                          mapping=Mapping(**{"format": "auto", **mapping}))  # fmt: skip


def responses():
    return sorted(
        (r.practice.code, r.responded_on, r.score, r.response_id)
        for r in Response.objects.select_related("practice")
    )


def refusal(data, **mapping):
    with pytest.raises(SurveyImportRefused) as info:
        load(data, **mapping)
    assert Response.objects.count() == 0
    return info.value.report_lines()


def text_columns_holding(marker):
    """Every (table, column) of the database whose text holds ``marker``."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                quoted = connection.ops.quote_name(column.name)
                cursor.execute(
                    f"SELECT 1 FROM {connection.ops.quote_name(table)} "
                    f"WHERE CAST({quoted} AS TEXT) LIKE %s LIMIT 1", [f"%{marker}%"],
                )  # fmt: skip
                if cursor.fetchone():
                    found.append((table, column.name))
    return found


# --- Each format, end to end ---------------------------------------------------------------


@pytest.mark.django_db
def test_qualtrics_export_imports_by_its_own_time_zone_and_choice_text(practices):
    report = load(sample("qualtrics.csv"))

    assert report.format == "qualtrics"
    assert report.layout["header_rows"] == 3
    assert report.layout["score_column"] == "Q1"  # the question with a Q1_NPS_GROUP sibling
    assert report.layout["file_zone"] == "America/Denver"
    assert (report.unfinished, report.unanswered) == (1, 1)
    assert responses() == [
        ("BAY-02", D(2024, 3, 6), 0, "R_2Qx7bbbbbbbbbbb"),  # a name; choice text "0 - Not ..."
        ("BAY-02", D(2024, 3, 7), 8, "R_5Qx7eeeeeeeeeee"),  # a code in another case
        ("OAK-01", D(2024, 3, 5), 10, "R_1Qx7aaaaaaaaaaa"),  # 23:30 in Denver: 06:30 UTC next day
    ]
    assert SurveyImport.objects.get().source == "Qualtrics"
    assert rollups_differences() == []


@pytest.mark.django_db
def test_legacy_qualtrics_export_with_two_header_rows_and_a_trailing_column(practices):
    report = load(sample("qualtrics_legacy.csv"))

    assert (report.format, report.layout["header_rows"]) == ("qualtrics", 2)
    assert responses() == [
        ("BAY-02", D(2015, 6, 2), 6, "R_legacy0000002"),
        ("OAK-01", D(2015, 6, 1), 9, "R_legacy0000001"),
    ]


@pytest.mark.django_db
def test_surveymonkey_export_reads_choice_labels_and_us_stamps(practices):
    report = load(sample("surveymonkey.csv"))

    assert (report.format, report.layout["header_rows"]) == ("surveymonkey", 2)
    assert responses() == [
        ("BAY-02", D(2024, 3, 6), 0, "114000000002"),  # "Not at all likely - 0", ISO stamp
        ("OAK-01", D(2024, 3, 5), 10, "114000000001"),  # "03/05/2024 11:30:00 PM"
        ("OAK-01", D(2024, 3, 7), 7, "114000000003"),
    ]


@pytest.mark.django_db
def test_delighted_export_keeps_the_comment_and_the_day_of_each_stamps_offset(practices):
    report = load(sample("delighted.csv"))

    assert report.format == "delighted"
    assert responses() == [
        ("BAY-02", D(2024, 3, 6), 6, "d-1002"),
        ("OAK-01", D(2024, 3, 5), 10, "d-1001"),  # 23:30 -0800 is 07:30 UTC the next day
        ("OAK-01", D(2024, 3, 6), 9, "d-1003"),  # matched by the practice's name
    ]
    assert list(SurveyComment.objects.values_list("text", flat=True)) == ["Very kind staff."]
    assert {"City", "Plan", "Name", "Email"} <= set(report.layout["dropped"])


@pytest.mark.django_db
@pytest.mark.parametrize("row", [1, 3])  # read with the header rows, and on the fast path
def test_a_comment_keeps_its_line_breaks_as_newlines_wherever_its_row_is_read(practices, row):
    lines = sample("delighted.csv").decode().splitlines()
    lines[row] = lines[row].replace(",10,Very kind staff.,", ',10,"Very kind.\r\nThank you.",')
    lines[row] = lines[row].replace(",9,,", ',9,"Very kind.\r\nThank you.",')
    load("\r\n".join(lines).encode())
    assert "Very kind.\nThank you." in SurveyComment.objects.values_list("text", flat=True)


@pytest.mark.django_db
def test_typeform_utc_stamps_count_on_the_day_of_the_chosen_zone(practices):
    report = load(sample("typeform.csv"))  # the default zone: settings.TIME_ZONE, Chicago

    assert report.format == "typeform"
    # 2024-03-06 05:30 UTC is 2024-03-05 23:30 in Chicago.
    assert responses() == [
        ("BAY-02", D(2024, 3, 6), 3, "tk9z8y7x6w5v4u3t2s1r0q9p8o7n6m5l"),
        ("OAK-01", D(2024, 3, 5), 9, "tk0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o"),
    ]


@pytest.mark.django_db
def test_typeform_stamps_follow_another_zone_when_asked(practices):
    load(sample("typeform.csv"), time_zone="Europe/Berlin")

    assert [r[1] for r in responses()] == [D(2024, 3, 6), D(2024, 3, 6)]


@pytest.mark.django_db
def test_formbricks_utf16_unicode_text_skips_unfinished_rows(practices):
    report = load(as_utf16(sample("formbricks.tsv")), name="export.txt")

    assert report.format == "formbricks"
    assert report.unfinished == 1
    assert responses() == [
        ("BAY-02", D(2024, 3, 7), 8, "clr0resp0003"),
        ("OAK-01", D(2024, 3, 5), 10, "clr0resp0001"),  # 05:30Z is 23:30 the day before
    ]


@pytest.mark.django_db
def test_google_forms_xlsx_with_date_cells_and_a_gmt_suffix(practices):
    report = load(as_xlsx(sample("googleforms.csv"), stamps_as_dates=True), name="form.xlsx")

    assert report.format == "googleforms"
    assert [r[:3] for r in responses()] == [
        ("BAY-02", D(2024, 3, 6), 5),  # "3/6/2024 9:15:42 GMT+3", as written
        ("OAK-01", D(2024, 3, 5), 10),
        ("OAK-01", D(2024, 3, 7), 9),
    ]
    # No response id in the file: each row is known by its stamp and answers.
    assert all(r[3].startswith("row:") for r in responses())


@pytest.mark.django_db
def test_the_csv_and_then_the_xlsx_of_one_google_form_count_each_response_once(practices):
    load(sample("googleforms.csv"))

    again = load(as_xlsx(sample("googleforms.csv"), stamps_as_dates=True), name="form.xlsx")

    assert (again.rows, again.skipped, again.imported, again.survey_import_id) == (3, 3, 0, None)
    assert again.all_imported
    assert Response.objects.count() == 3
    assert SurveyImport.objects.count() == 1  # nothing to import writes nothing


@pytest.mark.django_db
def test_a_later_download_of_a_growing_sheet_adds_only_the_new_responses(practices):
    load(sample("googleforms.csv"))
    grown = sample("googleforms.csv") + b"3/8/2024 11:00:00,new.patient@example.org,7,New,BAY-02\n"

    report = load(grown, name="form (1).csv", source="Google Forms download")

    assert (report.rows, report.skipped, report.imported) == (4, 3, 1)
    assert Response.objects.count() == 4


@pytest.mark.django_db
def test_two_identical_rows_of_a_file_are_two_responses(practices):
    row = b"3/9/2024 10:00:00,,9,,OAK-01\n"
    data = sample("googleforms.csv") + row + row

    assert load(data).imported == 5
    assert load(data + row).imported == 1  # the third copy, later, is new


@pytest.mark.django_db
def test_response_ids_already_imported_from_the_tool_are_skipped(practices):
    load(sample("qualtrics.csv"))
    again = load(sample("qualtrics.csv").replace(b"Friendly team", b"Friendly staff"))

    assert (again.imported, again.skipped) == (0, 3)
    assert Response.objects.count() == 3


@pytest.mark.django_db
def test_an_export_is_undone_as_a_whole_and_its_rollups_follow(practices):
    report = load(sample("surveymonkey.csv"))

    survey_import_undo(survey_import_id=report.survey_import_id)

    assert Response.objects.count() == 0
    assert rollups_differences() == []


@pytest.mark.django_db
def test_one_practice_for_the_whole_file(practices):
    data = sample("typeform.csv").replace(b",practice,", b",clinic_ref,")

    load(data, practice="BAY-02")

    assert {r[0] for r in responses()} == {"BAY-02"}


@pytest.mark.django_db
def test_columns_chosen_by_name_replace_the_detected_ones(practices):
    load(sample("typeform.csv"), date_column="Start Date (UTC)", id_column="Network ID")

    assert [r[3] for r in responses()] == ["1a2b3c4d5e", "0f1e2d3c4b"]


# --- Personal data ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_personal_data_of_every_format_is_stored_nowhere(practices):
    load(sample("qualtrics.csv"))
    load(sample("qualtrics_legacy.csv"))
    load(sample("surveymonkey.csv"))
    load(sample("delighted.csv"))
    load(sample("typeform.csv"))
    load(as_utf16(sample("formbricks.tsv")))
    load(as_xlsx(sample("googleforms.csv")), name="form.xlsx")
    assert Response.objects.count() == 3 + 2 + 3 + 3 + 2 + 2 + 3

    for marker in MARKERS:
        assert text_columns_holding(marker) == []
    assert text_columns_holding("OAK-01")  # the search does find what is stored


# --- Bad rows: the line the spreadsheet shows --------------------------------------------------


BAD_ROWS = {
    # Row 5 of the spreadsheet; the question text in row 2 holds a line break, so it is line 6
    # of the text file.
    "qualtrics": (
        "qualtrics.csv", b"2024-03-06 08:05:00,R_2", b"2024-13-06 08:05:00,R_2",
        ["line 5, column RecordedDate: '2024-13-06 08:05:00' is not a date and time "
         "(use YYYY-MM-DD HH:MM:SS or M/D/YYYY H:MM:SS, optionally with AM/PM or a zone)"],
    ),
    "surveymonkey": (
        "surveymonkey.csv", b"Not at all likely - 0", b"Not at all likely",
        ["line 4, column How likely is it that you would recommend this practice to a "
         "friend or colleague?: 'Not at all likely' has no score from 0 to 10 in it"],
    ),
    "delighted": (
        "delighted.csv", b"Oakridge Oral Surgery", b"Oakridge Dental",
        ["Values of column practice that match no practice code or name: "
         "'Oakridge Dental' (1 row).",
         "line 4, column practice: 'Oakridge Dental' is not a practice code or name"],
    ),
    "typeform": (
        "typeform.csv", b",3,", b",13,",
        ["line 3, column How likely are you to recommend us to a friend?: 13 is outside the "
         "scale 0 to 10"],
    ),
    "formbricks": (
        "formbricks.tsv", b"2024-03-07T18:00:00.000Z", b"yesterday",
        ["line 4, column Timestamp: 'yesterday' is not a date and time (use YYYY-MM-DD "
         "HH:MM:SS or M/D/YYYY H:MM:SS, optionally with AM/PM or a zone)"],
    ),
    "googleforms": (
        "googleforms.csv", b"3/7/2024 10:00:00", b"3/7/2099 10:00:00",
        ["line 4, column Timestamp: 2099-03-07 is in the future"],
    ),
}


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "old", "new", "errors"), BAD_ROWS.values(), ids=BAD_ROWS.keys())
def test_a_bad_row_refuses_the_file_with_its_spreadsheet_line(practices, name, old, new, errors):
    data = sample(name)
    assert old in data
    data = data.replace(old, new)
    if name.endswith(".tsv"):
        data = as_utf16(data)

    assert refusal(data) == errors
    assert SurveyImport.objects.count() == 0


@pytest.mark.django_db
def test_a_bad_row_of_a_workbook_names_its_sheet_row(practices):
    data = as_xlsx(sample("googleforms.csv").replace(b",5,", b",five,"))

    assert refusal(data) == [
        "line 3, column How likely are you to recommend our practice to a friend or family "
        "member?: 'five' has no score from 0 to 10 in it"
    ]


@pytest.mark.django_db
def test_an_unknown_layout_names_the_columns_each_format_needs(practices):
    lines = refusal(b"When,How many\n2024-01-01,9\n")

    assert lines[0].startswith("line 1: missing columns practice, responded_on, score")
    assert "Qualtrics needs ResponseId and RecordedDate (or EndDate)" in lines[1]
    assert "Typeform needs # and Submit Date (UTC)" in lines[1]


@pytest.mark.django_db
def test_two_recommend_questions_must_be_told_apart(practices):
    data = sample("typeform.csv").replace(b"Anything else?", b"How likely are you to recommend "
                                          b"our surgeon to a colleague?")
    data = data.replace(b",Great,", b",10,").replace(b",Slow,", b",8,")

    assert refusal(data) == [
        "Typeform export: more than one question asks about recommending (How likely are you "
        "to recommend us to..., How likely are you to recommend our s..."
        "); name the score column."
    ]
    load(data, score_column="How likely are you to recommend us to a friend?")
    assert Response.objects.count() == 2


@pytest.mark.django_db
def test_an_unknown_practice_for_the_whole_file_is_refused(practices):
    assert refusal(sample("typeform.csv"), practice="NOPE") == [
        "There is no practice 'NOPE' (a practice code or name) to import the whole file for."
    ]


# --- The command -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_command_prints_the_detected_format_and_what_it_drops(practices, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(sample("qualtrics.csv"))
    out = io.StringIO()

    call_command("import_surveys", str(path), stdout=out, stderr=io.StringIO())

    lines = out.getvalue().splitlines()
    assert lines[0] == "Detected format: Qualtrics"
    assert "format: Qualtrics (3 header rows)" in lines
    assert ("date: column RecordedDate, the day as written, in the export's time zone "
            "(America/Denver)") in lines  # fmt: skip
    assert any(line.startswith("personal data, not imported: IPAddress, Recipient")
               for line in lines)  # fmt: skip
    assert "unfinished responses skipped: 1" in lines


@pytest.mark.django_db
def test_command_takes_the_zone_and_the_practice(practices, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(sample("typeform.csv"))

    call_command("import_surveys", str(path), "--format", "typeform", "--tz", "Asia/Tokyo",
                 "--practice", "OAK-01", stdout=io.StringIO())  # fmt: skip

    # 05:30 and 15:02 UTC are 14:30 on the 6th and 00:02 on the 7th in Tokyo; the practice
    # named for the whole file wins over the file's practice column.
    assert responses() == [("OAK-01", D(2024, 3, 6), 9, "tk0a1b2c3d4e5f6g7h8i9j0k1l2m3n4o"),
                           ("OAK-01", D(2024, 3, 7), 3, "tk9z8y7x6w5v4u3t2s1r0q9p8o7n6m5l")]


@pytest.mark.django_db
def test_command_exits_1_on_an_unknown_layout(practices, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"When,How many\n2024-01-01,9\n")
    err = io.StringIO()

    with pytest.raises(SystemExit) as info:
        call_command("import_surveys", str(path), stdout=io.StringIO(), stderr=err)

    assert info.value.code == 1
    assert "Delighted needs Score and Response Timestamp" in err.getvalue()


@pytest.mark.django_db
def test_command_refuses_an_unknown_zone(practices, tmp_path):
    from django.core.management.base import CommandError

    path = tmp_path / "export.csv"
    path.write_bytes(sample("typeform.csv"))
    with pytest.raises(CommandError, match="unknown time zone 'Mars/Olympus'"):
        call_command("import_surveys", str(path), "--tz", "Mars/Olympus")


# --- The pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "stamp", "offset"), [
    ("2024-03-05 23:30:00", datetime.datetime(2024, 3, 5, 23, 30), None),
    ("2024-03-05T23:30:00.000Z", datetime.datetime(2024, 3, 5, 23, 30), 0),
    ("2024-03-05 23:30:00 -0800", datetime.datetime(2024, 3, 5, 23, 30), -8 * 60),
    ("03/05/2024 11:30:00 PM", datetime.datetime(2024, 3, 5, 23, 30), None),
    ("12/31/2024 12:05:00 AM", datetime.datetime(2024, 12, 31, 0, 5), None),
    ("3/5/2024 9:15:42 GMT+3", datetime.datetime(2024, 3, 5, 9, 15, 42), 180),
    ("2024-03-05", datetime.datetime(2024, 3, 5), None),
])  # fmt: skip
def test_parse_stamp(text, stamp, offset):
    parsed, parsed_offset = parse_stamp(text)
    assert parsed == stamp
    assert (None if parsed_offset is None else parsed_offset.total_seconds() / 60) == offset


@pytest.mark.parametrize("text", ["2024-02-30 10:00:00", "13/5/2024 10:00", "5 March 2024",
                                  "3/5/2024 13:00:00 PM", ""])  # fmt: skip
def test_parse_stamp_refuses(text):
    with pytest.raises(ValueError):
        parse_stamp(text)


@pytest.mark.parametrize(("text", "score"), [
    ("Extremely likely - 10", 10), ("Not at all likely - 0", 0), ("0 - Not at all likely", 0),
    ("7", 7), ("9 (Very likely)", 9),
])  # fmt: skip
def test_score_from_choice(text, score):
    assert score_from_choice(text) == score


@pytest.mark.parametrize(("text", "message"), [
    ("Extremely likely", "'Extremely likely' has no score from 0 to 10 in it"),
    ("1 to 10: 5", "'1 to 10: 5' holds more than one number; which is the score?"),
    ("Level 12", "12 in 'Level 12' is outside the scale 0 to 10"),
    ("7.5", "'7.5' has no score from 0 to 10 in it"),
])  # fmt: skip
def test_score_from_choice_refuses(text, message):
    with pytest.raises(ValueError, match="^" + message.replace("?", r"\?").replace("(", r"\(")
                       .replace(")", r"\)") + "$"):  # fmt: skip
        score_from_choice(text)


@pytest.mark.parametrize(("line", "delimiter"), [
    ("a,b,c", ","), ("a\tb\tc", "\t"), ("a;b;c", ";"), ("a|b|c", "|"),
    ('"x;y;z",b,c', ","), ("single", ","),
])  # fmt: skip
def test_sniff_delimiter(line, delimiter):
    assert sniff_delimiter(line + "\nmore;;;;;;\n") == delimiter


@pytest.mark.parametrize(("name", "key"), [
    ("qualtrics.csv", "qualtrics"), ("qualtrics_legacy.csv", "qualtrics"),
    ("surveymonkey.csv", "surveymonkey"), ("delighted.csv", "delighted"),
    ("typeform.csv", "typeform"), ("formbricks.tsv", "formbricks"),
    ("googleforms.csv", "googleforms"),
])  # fmt: skip
def test_detect_format_from_the_first_header_row(name, key):
    import csv

    text = sample(name).decode()
    rows = list(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)))[:3]
    assert [f.key for f in formats_detect(rows)[0]] == [key]


@pytest.mark.django_db
@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-16"),
    lambda text: text.replace(",", "\t").encode("utf-8-sig"),
    lambda text: text.replace(",", ";").encode("utf-8"),
], ids=["UTF-16", "TSV with BOM", "semicolons"])  # fmt: skip
def test_a_plain_file_in_another_encoding_or_delimiter_imports(practices, encode):
    text = "practice,responded_on,score,response_id\nOAK-01,2024-01-05,9,a\nBAY-02,1/6/2024,3,b\n"

    report = surveys_import(stream=io.BytesIO(encode(text)), file_name="plain.txt")

    assert report.format == "plain"
    assert responses() == [("BAY-02", D(2024, 1, 6), 3, "b"), ("OAK-01", D(2024, 1, 5), 9, "a")]
