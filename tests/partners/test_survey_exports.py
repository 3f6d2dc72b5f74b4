"""Real survey exports, as the tools write them today and in their older versions, imported
right or refused clearly, through the command and the upload page alike.

Each sample in ``samples/`` follows one tool's real layout (header rows, column names, date
forms, id column, how it marks unfinished, preview and test rows), with invented people and
practices. Every sample is imported in every container a data admin meets (CSV, TSV,
semicolons, UTF-16 "Unicode text", XLSX); then one test per way a real export went wrong."""

import csv
import datetime
import io
import re
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from partners.models import Job, SurveyImport, SurveyResponse
from partners.surveys.formats import Mapping, column_is_personal, score_question
from partners.surveys.importing import SurveyImportRefused, surveys_import
from partners.surveys.reading import tsv_quoted

from ..conftest import run_jobs as run
from .factories import affiliate, make_mso, make_practice
from .test_survey_export_upload_page import confirm_columns, text, upload

SAMPLES = Path(__file__).parent / "samples"
COLUMNS = reverse("survey_upload_columns")
D = datetime.date


@pytest.fixture
def practices(db):
    oak = make_practice("OAK-01", name="Oakridge Oral Surgery", city="Denver", state="CO")
    bay = make_practice("BAY-02", name="Bayside Jaw Center", city="Boulder", state="CO")
    affiliate(oak, make_mso("Northwind Dental Partners"))
    return oak, bay


def sample(name):
    return (SAMPLES / name).read_bytes()


def load(data, name="export.csv", source="", **mapping):
    return surveys_import(stream=io.BytesIO(data), file_name=name, source=source,
                          mapping=Mapping(**{"format": "auto", **mapping}))  # fmt: skip


def refusal(data, **mapping):
    with pytest.raises(SurveyImportRefused) as info:
        load(data, **mapping)
    assert SurveyResponse.objects.count() == 0
    return info.value.report_lines()


def scores():
    return sorted(SurveyResponse.objects.values_list("practice__code", "responded_on", "score"))


# --- Every layout in every container ---------------------------------------------------------

# sample: (format, responses, unfinished + previews skipped, what to name)
LAYOUTS = {
    "plain.csv": ("plain", 3, 0, {}),
    "qualtrics.csv": ("qualtrics", 3, 3, {}),
    "qualtrics_legacy.csv": ("qualtrics", 2, 2, {}),
    "surveymonkey.csv": ("surveymonkey", 3, 0, {}),
    "delighted.csv": ("delighted", 3, 0, {}),
    "typeform.csv": ("typeform", 2, 1, {}),
    "typeform_groups.csv": ("typeform", 2, 0, {}),
    "formbricks.tsv": ("formbricks", 2, 1, {}),
    "googleforms.csv": ("googleforms", 3, 0, {}),
    "googleforms_sheets.tsv": ("googleforms", 3, 0, {}),
    "googleforms_es.csv": ("googleforms", 2, 0, {"practice": "OAK-01"}),
    "limesurvey.csv": ("limesurvey", 2, 1, {}),
    "limesurvey_codes.csv": ("limesurvey", 1, 1, {"score_column": "NPS"}),
    "alchemer.csv": ("alchemer", 2, 1, {}),
    "msforms.csv": ("msforms", 3, 0, {}),
    "jotform.csv": ("jotform", 3, 0, {}),
    "surveysparrow.csv": ("surveysparrow", 2, 1, {}),
}


def records(name):
    """The sample's records, read as its tool wrote it (Google Sheets' TSV without quotes)."""
    text_ = sample(name).decode("utf-8-sig")
    if name == "googleforms_sheets.tsv":
        return list(csv.reader(io.StringIO(text_), delimiter="\t", quoting=csv.QUOTE_NONE))
    delimiter = "\t" if name.endswith(".tsv") else ";" if name == "limesurvey_codes.csv" else ","
    return list(csv.reader(io.StringIO(text_, newline=""), delimiter=delimiter))


def delimited(rows, delimiter):
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def workbook(rows):
    """The rows saved as a workbook as a spreadsheet holds them: whole numbers as numbers."""
    book = openpyxl.Workbook()
    for number, row in enumerate(rows):
        book.active.append([int(v) if number and v.isdigit() and len(v) < 10 else v
                            for v in row])  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


CONTAINERS = {
    "csv": lambda rows: delimited(rows, ",").encode("utf-8"),
    "tsv": lambda rows: delimited(rows, "\t").encode("utf-8"),
    "semicolons": lambda rows: delimited(rows, ";").encode("utf-8-sig"),
    "utf16": lambda rows: delimited(rows, "\t").encode("utf-16"),  # Excel's "Unicode text"
    "xlsx": workbook,
}
CASES = [(name, container) for name in LAYOUTS for container in CONTAINERS]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "container"), CASES)
def test_every_layout_in_every_container_imports_through_the_command(
        practices, tmp_path, name, container):  # fmt: skip
    fmt, count, skipped, named = LAYOUTS[name]
    path = tmp_path / f"export.{'xlsx' if container == 'xlsx' else 'txt'}"
    path.write_bytes(CONTAINERS[container](records(name)))
    options = [f"--{k.replace('_', '-')}={v}" for k, v in named.items()]
    out = io.StringIO()

    call_command("import_surveys", str(path), *options, stdout=out, stderr=io.StringIO())

    assert SurveyResponse.objects.count() == count
    report = out.getvalue()
    if fmt != "plain":
        assert f"format: {LAYOUTS_LABEL[fmt]}" in report
        assert skipped == sum(int(n) for n in re.findall(
            r"(?:unfinished responses|previews, test responses and spam) skipped: (\d+)", report))
    assert "Imported " in report.splitlines()[-1]


LAYOUTS_LABEL = {
    "qualtrics": "Qualtrics", "surveymonkey": "SurveyMonkey", "delighted": "Delighted",
    "typeform": "Typeform", "formbricks": "Formbricks", "googleforms": "Google Forms",
    "limesurvey": "LimeSurvey", "alchemer": "Alchemer (SurveyGizmo)",
    "msforms": "Microsoft Forms", "jotform": "JotForm", "surveysparrow": "SurveySparrow",
}  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "container"), CASES)
def test_every_layout_in_every_container_imports_through_the_page(
        client, data_admin, practices, queued, name, container):  # fmt: skip
    fmt, count, skipped, named = LAYOUTS[name]
    client.force_login(data_admin)
    file_name = f"export.{'xlsx' if container == 'xlsx' else 'txt'}"

    response = upload(client, file_name, data=CONTAINERS[container](records(name)))
    if fmt != "plain":
        assert response["Location"] == COLUMNS
        page = client.get(COLUMNS)
        assert LAYOUTS_LABEL[fmt] in text(page)
        changes = dict(named)
        if "practice" in named:
            changes["practice_column"] = ""
        confirm_columns(client, page, **changes)
    preview = run(queued)
    assert preview.status == "succeeded", preview.result
    assert (preview.result["imported"], preview.result["unfinished"] + preview.result["tests"]) \
        == (count, skipped)
    client.post(reverse("survey_upload_job", args=[preview.pk]), {"confirm": "1"})
    run(queued)

    assert SurveyResponse.objects.count() == count


# --- 0. A plain XLSX file ----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_plain_xlsx_file_imports(practices, tmp_path):
    path = tmp_path / "plain.xlsx"
    path.write_bytes(workbook([["practice", "responded_on", "score"], ["OAK-01", "2024-01-05", "9"],
                               ["BAY-02", "1/6/2024", "3"]]))  # fmt: skip

    call_command("import_surveys", str(path), stdout=io.StringIO())

    assert scores() == [("BAY-02", D(2024, 1, 6), 3), ("OAK-01", D(2024, 1, 5), 9)]


# --- 1. Google Sheets' TSV without quotes --------------------------------------------------------


@pytest.mark.django_db
def test_a_google_sheets_tsv_with_a_cell_that_begins_with_a_quote_imports(practices):
    report = load(sample("googleforms_sheets.tsv"), name="form.tsv")

    assert report.imported == 3
    assert "read without quote handling" in report.layout["reading"]


@pytest.mark.django_db
def test_a_quote_mark_far_into_an_unquoted_tsv_is_read_as_part_of_its_cell(practices):
    head, *rows = sample("googleforms_sheets.tsv").decode().splitlines()
    filler = [f"3/{1 + i % 28}/2023 10:{i % 60:02d}:00\t9\tFine visit number {i}\tOAK-01"
              for i in range(3000)]  # 64 kB and more before the quote mark  # fmt: skip
    data = "\n".join([head, *filler, *rows]).encode()
    assert data.index(b'\t"Native"') > 1 << 16

    report = load(data, name="form.tsv")

    assert report.imported == 3003
    assert "read without quote handling" in report.layout["reading"]


@pytest.mark.django_db
def test_a_tsv_whose_quotes_fail_far_into_it_is_read_again_without_quote_handling(practices):
    head, *rows = sample("googleforms_sheets.tsv").decode().splitlines()
    quoted = '3/1/2023 09:00:00\t9\t"Quoted, as Excel would"\tOAK-01'
    filler = [f"3/{1 + i % 28}/2023 10:{i % 60:02d}:00\t9\tFine visit number {i}\tOAK-01"
              for i in range(3000)]  # fmt: skip
    data = "\n".join([head, quoted, *filler, *rows]).encode()

    report = load(data, name="form.tsv")

    assert report.imported == 3004
    assert "read without quote handling" in report.layout["reading"]
    assert SurveyImport.objects.count() == 1


def test_a_tsv_is_read_with_quotes_only_when_it_quotes_a_cell():
    assert tsv_quoted('a\tb\n"line one\nline two"\t2\n')  # Excel's Unicode text
    assert tsv_quoted('a\tb\n"x"\t2\n')
    assert not tsv_quoted('a\tb\n"Native" graphics\t2\n')  # Google Sheets
    assert not tsv_quoted('a\tb\nsaid "hi"\t2\n')


# --- 2. Legacy Qualtrics -----------------------------------------------------------------------


@pytest.mark.django_db
def test_a_legacy_qualtrics_export_with_its_v1_row_imports_and_drops_personal_data(practices):
    report = load(sample("qualtrics_legacy.csv"))

    assert (report.format, report.layout["header_rows"]) == ("qualtrics", 2)
    assert report.layout["score_column"] == ("How likely is it that you would recommend us to "
                                             "a friend?")  # fmt: skip
    assert scores() == [("BAY-02", D(2015, 6, 2), 6), ("OAK-01", D(2015, 6, 1), 9)]
    assert (report.unfinished, report.tests) == (1, 1)  # Finished 0; Status 1, a preview
    assert {"Name", "EmailAddress", "IPAddress", "LocationLatitude", "LocationLongitude",
            "LocationAccuracy"} <= set(report.layout["dropped"])  # fmt: skip


# --- 3. A question that is not the NPS question --------------------------------------------------


@pytest.mark.django_db
def test_an_export_without_an_nps_question_is_refused(practices):
    assert refusal(sample("typeform_no_nps.csv")) == [
        "Typeform export: no column for the score (0 to 10) was found: no question asks how "
        "likely the patient is to recommend; name it."
    ]


@pytest.mark.django_db
def test_a_recommend_question_without_scores_from_0_to_10_is_refused_naming_it(practices):
    data = sample("typeform_no_nps.csv").replace(
        b'"We use your answers to customize recommendations for you. Are you comfortable with '
        b'it?"', b"How likely are you to recommend us to a friend?")

    assert refusal(data) == [
        "Typeform export: no question asking how likely the patient is to recommend holds "
        "scores from 0 to 10 (How likely are you to recommend us to... holds answers from 0 "
        "to 6 only, not a 0-to-10 scale); name the score column."
    ]


@pytest.mark.parametrize(("text", "asks"), [
    ("How likely are you to recommend us to a friend?", True),
    ("Would you recommend our practice to a friend or colleague?", True),
    ("On a scale from 0-10, how likely are you to recommend Oakridge?", True),
    ("¿Qué tan probable es que recomiendes R a un colega o amigo?", True),
    ("¿Qué probabilidad hay de que recomiende nuestra clínica a un familiar?", True),
    ("Quelle est la probabilité que vous recommandiez notre cabinet à un ami ?", True),
    ("Wie wahrscheinlich ist es, dass Sie uns einem Freund weiterempfehlen?", True),
    ("Qual a probabilidade de você recomendar a clínica a um amigo?", True),
    ("Quanto è probabile che tu raccomandi lo studio a un amico o collega?", True),
    ("We use it to customize recommendations for you. Are you comfortable with it?", False),
    ("Would you recommend us?", False),
    ("Did a friend recommend us?", True),
    ("How likely are you to come back?", False),
])  # fmt: skip
def test_the_nps_question_is_found_by_whole_words_in_six_languages(text, asks):
    assert score_question(text) is asks


# --- 4. Previews, tests, spam and partial responses -----------------------------------------------


@pytest.mark.django_db
def test_qualtrics_previews_and_spam_are_skipped_and_counted(practices):
    report = load(sample("qualtrics.csv"))

    assert (report.unfinished, report.tests, report.imported) == (1, 2, 3)
    assert not SurveyResponse.objects.filter(response_id__in=["R_6Qx7fffffffffff",
                                                              "R_7Qx7ggggggggggg"]).exists()


@pytest.mark.django_db
def test_qualtrics_imported_and_offline_responses_are_kept(practices):
    data = sample("qualtrics.csv").replace(b",Survey Preview,", b",Imported,").replace(
        b",Spam,", b",Offline,")

    assert load(data).imported == 5


@pytest.mark.django_db
def test_typeform_partial_responses_are_skipped_and_counted(practices):
    report = load(sample("typeform.csv"))

    assert (report.unfinished, report.imported) == (1, 2)


# --- 5. The same survey downloaded again ----------------------------------------------------------


@pytest.mark.django_db
def test_a_google_forms_survey_downloaded_again_as_xlsx_adds_nothing(practices, client,
                                                                     data_admin, queued):
    client.force_login(data_admin)
    load(sample("googleforms.csv"))

    upload(client, "form.xlsx", data=workbook(records("googleforms.csv")))
    confirm_columns(client, client.get(COLUMNS))
    preview = run(queued)
    page = client.get(reverse("survey_upload_job", args=[preview.pk]))

    assert "Every response of this file was already imported (3 of 3)" in text(page)
    assert 'name="confirm"' not in page.content.decode()
    assert "Importing it will add" not in text(page)
    assert SurveyResponse.objects.count() == 3


# --- 6. Non-English questions ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_spanish_google_form_finds_its_nps_question(practices):
    report = load(sample("googleforms_es.csv"), practice="OAK-01")

    assert report.layout["score_column"].startswith("¿Qué tan probable es que recomiendes")
    assert "Dirección de correo electrónico" in report.layout["dropped"]
    assert scores() == [("OAK-01", D(2024, 3, 5), 10), ("OAK-01", D(2024, 3, 6), 8)]


# --- 7. One message for a column of the wrong kind ------------------------------------------------


@pytest.mark.django_db
def test_a_yes_no_column_named_as_the_score_is_refused_with_one_message(practices):
    header = "#,Would you recommend us to a friend?,practice,Response Type,Submit Date (UTC)\n"
    rows = "".join(f"tk{i:030d},{'Yes' if i % 3 else 'No'},OAK-01,completed,2024-03-06 15:00:00\n"
                   for i in range(210))  # fmt: skip
    data = (header + rows).encode()

    assert refusal(data)[0] == (  # detected: its answers are no scores
        "Typeform export: no question asking how likely the patient is to recommend holds "
        "scores from 0 to 10 (Would you recommend us to a friend? holds Yes/No answers, not "
        "scores from 0 to 10); name the score column."
    )
    lines = refusal(data, score_column="Would you recommend us to a friend?")
    assert lines[0] == (
        "Column Would you recommend us to a friend? holds Yes/No answers, not scores from 0 to "
        "10: 210 of 210 rows. Choose the column with the 0-to-10 answers; the first lines are "
        "listed below."
    )
    assert len(lines) == 1 + 3 + 1  # the summary, three example lines, "... and N more"
    assert lines[1].startswith("line 2, column Would you recommend us to a friend?: 'No'")
    assert lines[-1] == "... and 207 more errors."


# --- 8. One numbering, the spreadsheet's ----------------------------------------------------------


@pytest.mark.django_db
def test_the_lines_after_a_csv_error_keep_their_number(practices):
    data = (b"practice,responded_on,score\nOAK-01,2024-01-05,9\n"
            b'OAK-01,2024-01-06,"9"x\n'  # line 3: not valid CSV
            b"OAK-01,2024-01-07,11\n")  # line 4  # fmt: skip

    assert refusal(data, format="plain") == [
        "line 3: this is not valid CSV (',' expected after '\"')",
        "line 4, column score: 11 is outside the scale 0 to 10",
    ]


@pytest.mark.django_db
def test_the_page_and_the_command_name_the_same_line(practices, client, data_admin, queued,
                                                     tmp_path):  # fmt: skip
    data = sample("delighted.csv").replace(b",9,,", b',9,"Kind"x,')  # line 4
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_surveys", str(path), stdout=io.StringIO(), stderr=err)
    client.force_login(data_admin)

    upload(client, "export.csv", data=data)
    confirm_columns(client, client.get(COLUMNS))
    page = text(client.get(reverse("survey_upload_job", args=[run(queued).pk])))

    assert "line 4: this is not valid CSV" in err.getvalue()
    assert "4 – this is not valid CSV" in page


@pytest.mark.django_db
def test_a_broken_third_row_has_the_same_line_on_the_page_and_the_command(
        practices, client, data_admin, queued, tmp_path):  # fmt: skip
    lines = sample("qualtrics.csv").split(b"\n")
    broken = b"\n".join([*lines[:3], b'"{""ImportId"":""startDate""}"x,' + lines[3], *lines[4:]])
    path = tmp_path / "export.csv"
    path.write_bytes(broken)
    err = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_surveys", str(path), stdout=io.StringIO(), stderr=err)
    client.force_login(data_admin)

    upload(client, "export.csv", data=broken, format="qualtrics")
    confirm_columns(client, client.get(COLUMNS))
    page = text(client.get(reverse("survey_upload_job", args=[run(queued).pk])))

    # Row 3 of the spreadsheet: the question text on row 2 holds a line break.
    assert "line 3: this is not valid CSV" in err.getvalue()
    assert "3 – this is not valid CSV" in page


# --- 9. Personal data by whole words and known names ----------------------------------------------


@pytest.mark.parametrize(("name", "personal"), [
    ("Did you use the USS mobile app to book your visit?", False),
    ("What is your email?", True), ("Your name", True), ("Email Address", True),
    ("Mobile number", True), ("IP Address", True), ("Name of the procedure you had?", False),
    ("Were the instructions about your address change clear?", False),
    ("3. Your phone number", True), ("practice", False), ("Postal", True),
    ("Username", False), ("Rename", False),
])  # fmt: skip
def test_personal_data_columns_are_found_by_whole_words(name, personal):
    assert column_is_personal(name) is personal


@pytest.mark.django_db
def test_a_question_about_a_mobile_app_is_not_listed_as_personal_data(practices):
    report = load(sample("alchemer.csv"))

    assert "Did you use the USS mobile app to book your visit?" not in report.layout["dropped"]
    assert {"IP Address", "City", "Postal", "User Agent"} <= set(report.layout["dropped"])


# --- 10. Tools recognised by name -----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "expected"), [
    ("limesurvey.csv", [("BAY-02", D(2024, 3, 6), 7), ("OAK-01", D(2024, 3, 5), 10)]),
    ("alchemer.csv", [("BAY-02", D(2024, 3, 6), 6), ("OAK-01", D(2024, 3, 5), 10)]),
    ("msforms.csv", [("BAY-02", D(2024, 3, 6), 4), ("OAK-01", D(2024, 3, 5), 10),
                     ("OAK-01", D(2024, 3, 7), 9)]),
    ("jotform.csv", [("BAY-02", D(2024, 3, 6), 2), ("OAK-01", D(2024, 3, 5), 10),
                     ("OAK-01", D(2024, 3, 7), 8)]),
    ("surveysparrow.csv", [("BAY-02", D(2024, 3, 6), 7), ("OAK-01", D(2024, 3, 5), 10)]),
    ("typeform_groups.csv", [("OAK-01", D(2024, 4, 2), 10), ("OAK-01", D(2024, 4, 3), 7)]),
])  # fmt: skip
def test_each_tool_is_recognised_with_its_dates_ids_and_unfinished_rows(practices, name,
                                                                        expected):
    report = load(sample(name))

    assert report.format == LAYOUTS[name][0]
    assert scores() == expected
    assert report.unfinished == LAYOUTS[name][2]
    assert not SurveyResponse.objects.filter(response_id__startswith="row:").exists()


@pytest.mark.django_db
def test_microsoft_forms_xlsx_with_date_cells(practices):
    book = openpyxl.Workbook()
    book.active.append(["ID", "Start time", "Completion time", "Email", "Name", "Practice",
                        "How likely are you to recommend us to a friend or colleague?"])
    book.active.append([1, datetime.datetime(2024, 3, 5, 23, 20, 11),
                        datetime.datetime(2024, 3, 5, 23, 29, 59, 999_999), "anonymous", None,
                        "OAK-01", 10])  # a stamp a microsecond short of its second
    out = io.BytesIO()
    book.save(out)

    report = load(out.getvalue(), name="form.xlsx")

    assert report.format == "msforms"
    assert scores() == [("OAK-01", D(2024, 3, 5), 10)]


@pytest.mark.django_db
def test_the_columns_page_says_which_tool_and_how_the_file_is_read(client, data_admin,
                                                                   practices, queued):
    client.force_login(data_admin)

    upload(client, "results-survey123.csv", data=sample("limesurvey.csv"))
    page = text(client.get(COLUMNS))

    assert "Detected format: LimeSurvey" in page
    assert "Read as CSV (UTF-8, commas)." in page
    assert "(column Date submitted) are skipped and counted" in page


# --- 11. The preview names the practices ----------------------------------------------------------


@pytest.mark.django_db
def test_the_preview_names_each_practice_with_its_city_mso_rows_and_comments(
        client, data_admin, practices, queued):  # fmt: skip
    client.force_login(data_admin)

    upload(client, "delighted.csv")
    confirm_columns(client, client.get(COLUMNS))
    preview = run(queued)
    page = client.get(reverse("survey_upload_job", args=[preview.pk]))

    table = re.search(r'<table id="preview-practices">(.*?)</table>', page.content.decode(),
                      re.S).group(1)  # fmt: skip
    rows = [" ".join(re.sub(r"<[^>]+>", " ", row).split())
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]  # fmt: skip
    assert rows == [
        "Oakridge Oral Surgery OAK-01 Denver, CO Northwind Dental Partners 2 1",
        "Bayside Jaw Center BAY-02 Boulder, CO none 1 0",
    ]
    assert "Importing it will add 3 responses" in text(page)
    assert 'name="confirm"' in page.content.decode()


@pytest.mark.django_db
def test_the_command_names_each_practice_too(practices, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(sample("delighted.csv"))
    out = io.StringIO()

    call_command("import_surveys", str(path), "--dry-run", stdout=out)

    assert ("  OAK-01 Oakridge Oral Surgery (Denver, CO; Northwind Dental Partners): 2 rows, "
            "1 comment") in out.getvalue().splitlines()  # fmt: skip
    assert ("  BAY-02 Bayside Jaw Center (Boulder, CO; no MSO today): 1 row, 0 comments"
            in out.getvalue().splitlines())  # fmt: skip


@pytest.mark.django_db
def test_a_file_already_imported_says_so_on_the_command(practices, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(sample("alchemer.csv"))
    call_command("import_surveys", str(path), stdout=io.StringIO())
    out = io.StringIO()

    call_command("import_surveys", str(path), stdout=out)

    assert out.getvalue().splitlines()[-1] == (
        f"Nothing imported: all 2 responses of {path} were already imported. Nothing was "
        "written."
    )
    assert SurveyImport.objects.count() == 1
    assert Job.objects.count() == 0
