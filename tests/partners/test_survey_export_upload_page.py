"""Uploading a survey tool's export in the admin: the columns page shows the detected format,
the columns to read and the personal-data columns dropped; the preview says the same; the
mapping is saved at the import and offered the next time."""

import html
import io
import re
from pathlib import Path

import pytest
from django.urls import reverse

from partners.models import Job, SurveyImport, SurveyMapping, SurveyResponse

from ..conftest import run_jobs as run
from .factories import affiliate, make_mso, make_practice
from .test_survey_formats import MARKERS, text_columns_holding

SAMPLES = Path(__file__).parent / "samples"
UPLOAD = reverse("survey_upload")
COLUMNS = reverse("survey_upload_columns")


@pytest.fixture
def practices(db):
    oak = make_practice("OAK-01", name="Oakridge Oral Surgery")
    bay = make_practice("BAY-02", name="Bayside Jaw Center")
    affiliate(oak, make_mso("Northwind Dental Partners"))
    return oak, bay


def upload(client, name, data=None, **fields):
    file = io.BytesIO(data if data is not None else (SAMPLES / name).read_bytes())
    file.name = name
    return client.post(UPLOAD, {"file": file, "source": "Patient survey", **fields})


def text(page):
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page.content.decode()).split()))


def selected(page, name):
    """The selected option of a select on the page."""
    content = page.content.decode()
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', content, re.S).group(1)
    match = re.search(r'<option value="([^"]*)"[^>]*selected', select)
    return match.group(1) if match else None


def confirm_columns(client, page, **changes):
    """Post the columns page as shown (with ``changes``)."""
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(changes)
    return client.post(COLUMNS, {**data, "check": "1"})


@pytest.mark.django_db
def test_an_export_shows_its_detected_columns_and_dropped_personal_data(
        client, data_admin, practices, queued):  # fmt: skip
    client.force_login(data_admin)

    response = upload(client, "qualtrics.csv")
    assert response["Location"] == COLUMNS
    page = client.get(COLUMNS)

    assert "Detected format: Qualtrics (3 header rows; data from row 4)" in text(page)
    assert selected(page, "score_column") == "Q1"
    assert selected(page, "date_column") == "RecordedDate"
    assert selected(page, "id_column") == "ResponseId"
    assert selected(page, "practice_column") == "Practice"
    assert "the day as written, in the export's time zone (America/Denver)" in text(page)
    dropped = re.search(r'<div class="module" id="dropped-columns">(.*?)</div>',
                        page.content.decode(), re.S).group(1)  # fmt: skip
    assert re.findall(r"<li>(.*?)</li>", dropped) == [
        "IPAddress", "RecipientLastName", "RecipientFirstName", "RecipientEmail",
        "ExternalReference", "LocationLatitude", "LocationLongitude",
    ]
    assert queued == []  # nothing is checked before the admin confirms the columns


@pytest.mark.django_db
def test_confirmed_columns_are_checked_previewed_imported_and_saved(
        client, data_admin, practices, queued):  # fmt: skip
    client.force_login(data_admin)
    upload(client, "qualtrics.csv")

    response = confirm_columns(client, client.get(COLUMNS))
    preview = Job.objects.get(pk=queued[0])
    assert response["Location"] == reverse("survey_upload_job", args=[preview.pk])
    assert preview.payload["mapping"]["format"] == "qualtrics"
    run(queued)
    page = text(client.get(reverse("survey_upload_job", args=[preview.pk])))
    assert "Format Qualtrics (3 header rows)" in page
    assert "Score column Q1" in page
    assert "Personal data, not imported IPAddress, RecipientLastName" in page
    assert "Unfinished responses, skipped 1" in page
    assert SurveyResponse.objects.count() == 0

    client.post(reverse("survey_upload_job", args=[preview.pk]), {"confirm": "1"})
    run(queued)

    assert SurveyResponse.objects.count() == 3
    saved = SurveyMapping.objects.get()
    assert (saved.tool, saved.practice, saved.score_column, saved.practice_column) == (
        "qualtrics", None, "Q1", "Practice")
    for marker in MARKERS:
        assert text_columns_holding(marker) == []  # jobs, sessions, responses: nowhere


@pytest.mark.django_db
def test_the_saved_mapping_is_offered_next_time(client, data_admin, practices, queued):
    oak, _bay = practices
    client.force_login(data_admin)
    SurveyMapping.objects.create(tool="typeform", practice=oak, score_column="Anything else?",
                                 date_column="Start Date (UTC)", time_zone="Asia/Tokyo")

    upload(client, "typeform.csv", practice="OAK-01")
    page = client.get(COLUMNS)

    assert "were last imported" in text(page)
    assert selected(page, "date_column") == "Start Date (UTC)"
    assert selected(page, "time_zone") == "Asia/Tokyo"


@pytest.mark.django_db
def test_data_admins_read_saved_mappings_in_the_admin_and_a_deleted_one_is_not_offered(
    client, data_admin, practices, queued
):
    oak, _bay = practices
    client.force_login(data_admin)
    mapping = SurveyMapping.objects.create(tool="typeform", practice=oak,
                                           score_column="Anything else?",
                                           date_column="Start Date (UTC)")  # fmt: skip
    listing = text(client.get(reverse("admin:partners_surveymapping_changelist")))
    assert "Anything else?" in listing and "Start Date (UTC)" in listing
    client.post(reverse("admin:partners_surveymapping_delete", args=[mapping.pk]),
                {"post": "yes"})  # fmt: skip
    assert not SurveyMapping.objects.exists()

    upload(client, "typeform.csv", practice="OAK-01")
    assert "were last imported" not in text(client.get(COLUMNS))


@pytest.mark.django_db
def test_one_practice_for_the_whole_file_and_an_unmatched_practice_listed(
        client, data_admin, practices, queued):  # fmt: skip
    client.force_login(data_admin)
    data = (SAMPLES / "delighted.csv").read_bytes().replace(b"BAY-02", b"Bayview")
    upload(client, "delighted.csv", data=data)

    confirm_columns(client, client.get(COLUMNS))
    job = run(queued)
    page = text(client.get(reverse("survey_upload_job", args=[job.pk])))
    assert "Values of column practice that match no practice code or name: 'Bayview' (1 row)." \
        in page

    upload(client, "delighted.csv", data=data)
    confirm_columns(client, client.get(COLUMNS), practice_column="", practice="BAY-02")
    run(queued)
    client.post(reverse("survey_upload_job", args=[Job.objects.order_by("-pk")[0].pk]),
                {"confirm": "1"})  # fmt: skip
    run(queued)
    assert set(SurveyResponse.objects.values_list("practice__code", flat=True)) == {"BAY-02"}
    assert SurveyMapping.objects.get().practice.code == "BAY-02"


@pytest.mark.django_db
def test_a_column_that_is_not_in_the_file_is_refused_on_the_page(
        client, data_admin, practices, queued):  # fmt: skip
    client.force_login(data_admin)
    upload(client, "typeform.csv")

    page = confirm_columns(client, client.get(COLUMNS), practice_column="", practice="")

    assert "Choose the practice column, or name one practice for the whole file." in text(page)
    assert queued == []


@pytest.mark.django_db
def test_a_plain_file_goes_straight_to_its_check(client, data_admin, practices, queued):
    client.force_login(data_admin)

    data = b"practice,responded_on,score\nOAK-01,2024-01-05,9\n"

    response = upload(client, "plain.csv", data=data)

    assert response["Location"] == reverse("survey_upload_job", args=[queued[0]])


@pytest.mark.django_db
def test_an_unknown_layout_asks_for_the_tool(client, data_admin, practices, queued):
    client.force_login(data_admin)
    upload(client, "odd.csv", data=b"When,How many\n2024-01-01,9\n", format="qualtrics")

    page = client.get(COLUMNS)

    assert "Qualtrics export: no column for the date was found; name it." in text(page)
    assert queued == []


@pytest.mark.django_db
def test_the_columns_page_needs_an_upload(client, data_admin):
    client.force_login(data_admin)

    response = client.get(COLUMNS, follow=True)

    assert response.redirect_chain[-1][0] == UPLOAD
    assert SurveyImport.objects.count() == 0
