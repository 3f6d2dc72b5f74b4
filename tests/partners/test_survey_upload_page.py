"""Data admins upload a survey file in the admin, see its preview, then confirm the import.

The file is staged on disk; the check and the import run as background jobs. Here the jobs
are run by calling ``job_execute`` where the worker would, except in the end-to-end test at
the bottom, which uses a real worker.
"""

import datetime
import io
import json
import os
import re

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse

from partners.jobs import JobProgress
from partners.models import (
    Job,
    JobStatus,
    PracticeNpsMonth,
    SurveyComment,
    SurveyImport,
    SurveyResponse,
)
from partners.rollups import rollups_differences
from partners.selectors import mso_nps
from partners.surveys.importing import surveys_import
from partners.uploads import (
    UPLOAD_CHUNK,
    UPLOAD_EXPIRED,
    upload_discard,
    upload_exists,
    upload_file_name,
    upload_open,
    upload_stage_file,
)
from scorecards.statistics import nps_estimate

from ..conftest import run_jobs as run
from ..conftest import wait_for
from .factories import affiliate, make_mso, make_practice

UPLOAD = reverse("survey_upload")
GOOD = (
    b"practice,responded_on,score,response_id,comment\n"
    b"P-1,2024-01-05,10,r1,Great care\n"
    b"P-1,2024-02-10,9,r2,\n"
    b"P-1,2024-03-20,7,r3,\n"
    b"P-2,2024-01-15,3,r4,Long wait before my jaw surgery follow-up\n"
    b"P-2,1/31/2024,10,r5,\n"
    b"P-2,2024-03-01,8,r6,\n"
)


def job_url(job):
    return reverse("survey_upload_job", args=[job.pk])


@pytest.fixture
def practices(db):
    larkspur, quillon = make_mso(), make_mso("Quillon Oral Surgery Partners")
    p1, p2 = make_practice("P-1"), make_practice("P-2")
    affiliate(p1, larkspur)
    affiliate(p2, quillon)
    return larkspur, quillon


def upload(client, data, name="survey.csv", source="Press Ganey"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(UPLOAD, {"file": file, "source": source})


def preview(client, queued, data=GOOD, **kwargs):
    """Upload a file and run its check; return the job and its page."""
    response = upload(client, data, **kwargs)
    assert response.status_code == 302, response.context["form"].errors
    job = Job.objects.get(pk=queued[0])
    assert response["Location"] == job_url(job)
    run(queued)
    job.refresh_from_db()
    return job, client.get(job_url(job))


def figures(page):
    """The preview table as {label: value}."""
    table = re.search(r'<table id="import-preview">(.*?)</table>', page.content.decode(), re.S)
    rows = re.findall(r"<th[^>]*>(.*?)</th><td[^>]*>(.*?)</td>", table.group(1))
    return dict(rows)


def text(page):
    """The page's text without tags or repeated spaces."""
    html = re.sub(r"</?(a|strong)\b[^>]*>", "", page.content.decode())
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def nothing_written():
    return not (SurveyResponse.objects.exists() or SurveyComment.objects.exists()
                or SurveyImport.objects.exists() or PracticeNpsMonth.objects.exists())  # fmt: skip


def larkspur_nps(larkspur):
    estimate = nps_estimate(*mso_nps(mso_id=larkspur.pk, first_month=datetime.date(2024, 1, 1),
                       last_month=datetime.date(2024, 12, 1)))  # fmt: skip
    return estimate.n, estimate.nps


# --- Preview ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_preview_shows_the_files_figures_and_writes_nothing(client, data_admin, practices,
                                                            queued):  # fmt: skip
    client.force_login(data_admin)
    job, page = preview(client, queued)
    assert job.kind == "survey_preview" and job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 100
    assert "Preview of survey.csv" in page.content.decode()
    assert figures(page) == {
        "Source": "Press Ganey",
        "Rows": "6",
        "Skipped as already imported from Press Ganey": "0",
        "Responses to import": "6",
        "Practices": "2",
        "Dates": "2024-01-05 to 2024-03-20",
        "NPS of the file": "33.3",  # (3 promoters - 1 detractor) / 6
        "Promoters (9–10)": "3",
        "Passives (7–8)": "2",
        "Detractors (0–6)": "1",
    }
    assert 'value="Import survey.csv"' in page.content.decode()
    assert nothing_written()
    assert upload_exists(token=job.payload["upload"])


@pytest.mark.django_db
def test_the_job_holds_the_staged_files_token_never_its_contents(client, data_admin, practices,
                                                                  queued):  # fmt: skip
    client.force_login(data_admin)
    job, _ = preview(client, queued)
    assert set(job.payload) == {"upload", "file_name", "source", "user_id"}
    assert job.payload["file_name"] == "survey.csv"
    assert job.payload["user_id"] == data_admin.pk
    stored = json.dumps(job.payload) + json.dumps(job.result) + job.message + job.error
    assert "jaw surgery" not in stored and "Great care" not in stored
    # The result is plain JSON: dates as ISO strings, so the preview renders from the job.
    assert (job.result["first_day"], job.result["last_day"]) == ("2024-01-05", "2024-03-20")
    with upload_open(token=job.payload["upload"]) as staged:
        assert staged.read() == GOOD
        assert os.fstat(staged.fileno()).st_mode & 0o777 == 0o600
    assert upload_file_name(token=job.payload["upload"]) == "survey.csv"


@pytest.mark.django_db
def test_preview_counts_the_rows_already_imported_as_skipped(client, data_admin, practices,
                                                             queued):  # fmt: skip
    header_and_two_rows = b"".join(GOOD.splitlines(keepends=True)[:3])
    surveys_import(stream=io.BytesIO(header_and_two_rows), file_name="earlier.csv",
                   source="Press Ganey")  # fmt: skip
    client.force_login(data_admin)
    job, page = preview(client, queued)
    shown = figures(page)
    assert shown["Skipped as already imported from Press Ganey"] == "2"
    assert shown["Responses to import"] == "4"
    assert shown["Rows"] == "6"
    assert SurveyResponse.objects.count() == 2


@pytest.mark.django_db
def test_preview_shows_the_warnings(client, data_admin, practices, queued):
    client.force_login(data_admin)
    data = b"practice,responded_on,score,wait_minutes\nP-1,2024-01-05,10,12\n"
    _, page = preview(client, queued, data)
    assert "Warning: column wait_minutes is not used and was ignored" in page.content.decode()


# --- Errors ----------------------------------------------------------------------------------

BAD = (
    b"practice,responded_on,score\n"
    b"P-1,2024-01-05,11\n"
    b"P-9,2024-13-01,5\n"
    b"P-2,2024-02-01,\n"
)


@pytest.mark.django_db
def test_a_bad_file_shows_every_error_with_line_and_column(client, data_admin, practices,
                                                           queued):  # fmt: skip
    client.force_login(data_admin)
    job, page = preview(client, queued, BAD, name="bad.csv")
    assert job.status == JobStatus.FAILED
    assert "Refused bad.csv: nothing was imported." in page.content.decode()
    assert [(e["line"], e["column"], e["message"]) for e in page.context["errors"]] == [
        (2, "score", "11 is outside the scale 0 to 10"),
        (3, "practice", "unknown practice code 'P-9'"),
        (3, "responded_on", "'2024-13-01' is not a date (use YYYY-MM-DD or M/D/YYYY)"),
        (4, "score", "the score is missing"),
    ]
    assert '<td class="num">4</td><td>score</td><td>the score is missing</td>' in (
        page.content.decode()
    )
    assert 'name="confirm"' not in page.content.decode()
    assert "more errors" not in page.content.decode()
    assert "4 errors. Correct the file and upload it again." in text(page)
    assert nothing_written()
    assert not upload_exists(token=job.payload["upload"])  # it cannot be imported anyway


@pytest.mark.django_db
def test_after_a_thousand_errors_the_rest_are_counted(client, data_admin, practices, queued):
    client.force_login(data_admin)
    data = b"practice,responded_on,score\n" + b"P-1,2024-01-05,11\n" * 1003
    _, page = preview(client, queued, data)
    assert len(page.context["errors"]) == 1000
    assert page.content.decode().count("is outside the scale 0 to 10") == 1000
    assert "... and 3 more errors." in page.content.decode()
    assert "1,003 errors; the first 1,000 are listed." in text(page)


@pytest.mark.django_db
def test_the_form_needs_a_file_and_a_source(client, data_admin, queued, caplog):
    client.force_login(data_admin)
    with caplog.at_level("WARNING", logger="mso_eval.security"):
        response = client.post(UPLOAD, {"source": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"file", "source"}
    assert not Job.objects.exists() and queued == []
    assert [r.getMessage() for r in caplog.records if r.name == "mso_eval.security"] == [
        f"refused POST {UPLOAD} (user {data_admin.pk}): form errors in fields 'file', 'source'"]


# --- Confirmation ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_confirming_the_preview_imports_the_file(client, data_admin, practices, queued):
    larkspur, _ = practices
    assert larkspur_nps(larkspur) == (0, None)
    client.force_login(data_admin)
    checked, _ = preview(client, queued)
    response = client.post(job_url(checked), {"confirm": "Import survey.csv"})
    job = Job.objects.get(kind="survey_import")
    assert response["Location"] == job_url(job)
    assert job.payload == {**checked.payload, "preview_job": checked.pk}
    assert SurveyResponse.objects.count() == 0  # not before the job runs
    run(queued)
    page = client.get(job_url(job))
    survey_import = SurveyImport.objects.get()
    assert (
        f"Imported survey.csv as import #{survey_import.pk}: 6 responses imported."
    ) in text(page)
    assert reverse("admin:partners_surveyimport_change", args=[survey_import.pk]) in (
        page.content.decode()
    )
    assert (survey_import.file_name, survey_import.source, survey_import.rows) == (
        "survey.csv", "Press Ganey", 6,
    )  # fmt: skip
    assert survey_import.imported_by == data_admin
    assert sorted(SurveyComment.objects.values_list("text", flat=True)) == [
        "Great care", "Long wait before my jaw surgery follow-up",
    ]  # fmt: skip
    assert rollups_differences() == []
    assert larkspur_nps(larkspur) == (3, pytest.approx(100 * 2 / 3))
    assert not upload_exists(token=checked.payload["upload"])


@pytest.mark.django_db
def test_confirming_twice_imports_once(client, data_admin, practices, queued):
    client.force_login(data_admin)
    checked, _ = preview(client, queued)
    first = client.post(job_url(checked), {"confirm": "1"})
    second = client.post(job_url(checked), {"confirm": "1"})
    assert first["Location"] == second["Location"]
    assert Job.objects.filter(kind="survey_import").count() == 1
    run(queued)
    assert SurveyImport.objects.count() == 1
    page = client.get(job_url(checked))
    assert "The import of this file was confirmed" in page.content.decode()
    assert 'name="confirm"' not in page.content.decode()


@pytest.mark.django_db
def test_a_file_refused_at_confirmation_shows_why(client, data_admin, practices, queued):
    """Between the preview and the confirmation someone imported the same file."""
    client.force_login(data_admin)
    data = b"practice,responded_on,score\nP-1,2024-01-05,10\nP-2,2024-01-06,0\n"
    checked, _ = preview(client, queued, data)
    earlier = surveys_import(stream=io.BytesIO(data), file_name="same.csv", source="Press Ganey")
    client.post(job_url(checked), {"confirm": "1"})
    job = run(queued)
    assert job.status == JobStatus.FAILED
    page = client.get(job_url(job))
    assert "Refused survey.csv: nothing was imported. The stored data changed since the check." in (
        text(page)
    )
    assert f"This file was already imported as import #{earlier.survey_import_id}" in text(page)
    assert SurveyImport.objects.count() == 1
    assert rollups_differences() == []
    assert not upload_exists(token=job.payload["upload"])


@pytest.mark.django_db
def test_confirming_an_expired_upload_asks_for_the_file_again(client, data_admin, practices,
                                                              queued):  # fmt: skip
    client.force_login(data_admin)
    checked, _ = preview(client, queued)
    upload_discard(token=checked.payload["upload"])
    response = client.post(job_url(checked), {"confirm": "1"}, follow=True)
    assert response.redirect_chain[-1][0] == UPLOAD
    assert UPLOAD_EXPIRED in [str(m) for m in response.context["messages"]]
    assert not Job.objects.filter(kind="survey_import").exists()


@pytest.mark.django_db
def test_a_refused_preview_cannot_be_confirmed(client, data_admin, practices, queued):
    client.force_login(data_admin)
    checked, _ = preview(client, queued, BAD)
    response = client.post(job_url(checked), {"confirm": "1"}, follow=True)
    assert "Only a file that passed its check can be imported." in text(response)
    assert not Job.objects.filter(kind="survey_import").exists()


# --- Progress --------------------------------------------------------------------------------


def _job(status, progress=0, kind="survey_preview", **fields):
    payload = {"upload": "0" * 32, "file_name": "big.csv", "source": "Vendor", "user_id": None}
    return Job.objects.create(kind=kind, status=status, progress=progress, payload=payload,
                              **fields)  # fmt: skip


@pytest.mark.django_db
def test_the_progress_partial_shows_the_percentage_and_keeps_polling(client, data_admin):
    client.force_login(data_admin)
    job = _job(JobStatus.RUNNING, 42)
    partial = client.get(job_url(job), headers={"HX-Request": "true"})
    html = partial.content.decode()
    assert html.lstrip().startswith('<div id="survey-job"')  # the partial, not the page
    assert "Checking big.csv: <strong>42%</strong>" in html
    assert '<progress max="100" value="42">' in html
    assert f'hx-get="{job_url(job)}" hx-trigger="every 1s"' in html


@pytest.mark.django_db
def test_the_progress_partial_stops_polling_when_the_job_is_done(client, data_admin):
    client.force_login(data_admin)
    job = _job(JobStatus.SUCCEEDED, 100, result={
        "source": "Vendor", "rows": 3, "skipped": 0, "imported": 3, "practices": 1,
        "first_day": "2024-01-01", "last_day": "2024-01-03", "nps": -33.33333,
        "promoters": 0, "passives": 2, "detractors": 1, "warnings": [],
    })  # fmt: skip
    html = client.get(job_url(job), headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in html and "hx-get" not in html
    assert "Preview of big.csv" in html
    assert '<td class="num">-33.3</td>' in html


@pytest.mark.django_db
def test_the_job_page_works_without_javascript(client, data_admin):
    client.force_login(data_admin)
    job = _job(JobStatus.QUEUED)
    html = client.get(job_url(job)).content.decode()
    assert "<html" in html
    assert "vendor/htmx.min.js" in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert f'<a href="{job_url(job)}">reload</a>' in html
    assert "Waiting for a worker to check big.csv" in html
    job.status = JobStatus.FAILED
    job.save()
    assert "http-equiv" not in client.get(job_url(job)).content.decode()


@pytest.mark.django_db
def test_only_survey_jobs_have_a_page(client, data_admin):
    client.force_login(data_admin)
    job = Job.objects.create(kind="import_practices", payload={"csv": "x"})
    assert client.get(job_url(job)).status_code == 404


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.django_db(transaction=True)
def test_progress_is_written_every_two_points_or_half_second():
    job = _job(JobStatus.RUNNING)
    clock = _Clock()
    progress = JobProgress(job.pk, total=1000, clock=clock)

    def stored(done):
        progress(done)
        job.refresh_from_db()
        return job.progress

    assert stored(10) == 0  # 1%: too soon and too little
    assert stored(20) == 2
    assert stored(29) == 2
    clock.now = 0.6
    assert stored(30) == 3  # one point, but half a second later
    assert stored(1000) == 99  # the checks after the reading are still to come


@pytest.mark.django_db(transaction=True)
def test_progress_is_seen_by_others_while_the_file_is_read(practices):
    """The page polls from another connection: it must see the percentage as it grows."""
    from partners.surveys.importing import surveys_import

    job = _job(JobStatus.RUNNING)
    lines = [f"{code},2024-0{1 + i % 9}-1{i % 10},{i % 11}" for i, code in
             enumerate(["P-1", "P-2"] * 100_000)]  # fmt: skip
    data = ("practice,responded_on,score\n" + "\n".join(lines) + "\n").encode()
    progress = JobProgress(job.pk, total=len(data))
    onlooker = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []

    def report(done):
        progress(done)
        with onlooker.cursor() as cursor:
            cursor.execute("SELECT progress FROM partners_job WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone()[0])

    try:
        surveys_import(stream=io.BytesIO(data), file_name="big.csv", source="t", progress=report)
    finally:
        onlooker.close()
    assert len(data) > 3_000_000
    assert any(0 < percent < 99 for percent in seen)  # seen while the file was being read
    assert seen == sorted(seen) and seen[-1] >= 90


@pytest.mark.django_db(transaction=True)
def test_the_stages_after_the_reading_are_seen_while_the_import_is_still_open(practices):
    """Writing a million responses and committing them take most of an import's time, inside
    its transaction: the page must still see which stage it is in."""
    job = _job(JobStatus.RUNNING)
    share = JobProgress.read_share_for(dry_run=False)
    progress = JobProgress(job.pk, total=len(GOOD), read_share=share)
    onlooker = connections.create_connection(DEFAULT_DB_ALIAS)
    seen = []

    def on_stage(message, percent):
        progress.stage(message, percent)
        with onlooker.cursor() as cursor:
            cursor.execute("SELECT progress, message FROM partners_job WHERE id = %s", [job.pk])
            seen.append(cursor.fetchone())

    try:
        surveys_import(stream=io.BytesIO(GOOD), file_name="s.csv", source="t",
                       progress=progress, on_stage=on_stage)  # fmt: skip
    finally:
        onlooker.close()
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        assert share == 40
        assert seen == [
            (40, "Checking the file as a whole"),
            (45, "Writing 6 responses"),
            (90, "Updating the NPS rollups"),
            (94, "Saving: the database checks every response before it commits"),
        ]
    else:  # one writer at a time: the stages are not written, the reading fills the bar
        assert share == 99
        assert seen == [(99, "")] * 4


def test_an_import_goes_through_its_stages_in_order_and_a_check_stops_after_the_first(
    practices,
):
    stages = []
    record = lambda message, percent: stages.append((message, percent))  # noqa: E731
    surveys_import(stream=io.BytesIO(GOOD), file_name="s.csv", dry_run=True, on_stage=record)
    assert stages == [("Checking the file as a whole", 0)]
    stages.clear()
    surveys_import(stream=io.BytesIO(GOOD), file_name="s.csv", on_stage=record)
    assert [percent for _, percent in stages] == [0, 10, 85, 93]
    assert stages[1] == ("Writing 6 responses", 10)


def test_a_big_files_preview_groups_the_digits(client, data_admin):
    result = {
        "source": "Vendor", "rows": 1_250_000, "skipped": 1_000, "imported": 1_249_000,
        "practices": 10_000, "first_day": "2016-01-01", "last_day": "2025-12-31", "nps": 12.5,
        "promoters": 500_000, "passives": 400_000, "detractors": 349_000, "warnings": [],
    }  # fmt: skip
    job = _job(JobStatus.SUCCEEDED, 100, result=result)
    client.force_login(data_admin)
    shown = figures(client.get(job_url(job)))
    assert (shown["Rows"], shown["Responses to import"], shown["Practices"]) == (
        "1,250,000", "1,249,000", "10,000"
    )  # fmt: skip
    assert shown["Detractors (0–6)"] == "349,000"


def test_the_running_import_page_shows_its_stage(client, data_admin):
    job = _job(JobStatus.RUNNING, progress=27, kind="survey_import",
               message="Writing 1,000,000 responses")  # fmt: skip
    client.force_login(data_admin)
    page = client.get(job_url(job)).content.decode()
    assert "Importing big.csv: <strong>27%</strong>" in page
    assert '<p id="job-stage">Writing 1,000,000 responses…</p>' in page


# --- Staging ---------------------------------------------------------------------------------


class _ChunksOnly(io.RawIOBase):
    """A file object that refuses to be read whole."""

    def __init__(self, data, name):
        self.data, self.name, self.sizes = io.BytesIO(data), name, []

    def readable(self):
        return True

    def read(self, size=-1):
        assert 0 < size <= UPLOAD_CHUNK, f"read({size}) of the whole file"
        self.sizes.append(size)
        return self.data.read(size)


def test_staging_streams_the_file_in_chunks_and_keeps_its_name(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = GOOD * 60_000  # about 3 MB
    source = _ChunksOnly(data, "/home/someone/Exports/March survey.csv")
    token = upload_stage_file(fileobj=source)
    assert len(source.sizes) >= 3
    with upload_open(token=token) as staged:
        assert staged.read() == data
    assert upload_file_name(token=token) == "March survey.csv"
    upload_discard(token=token)
    assert not upload_exists(token=token)
    assert list((tmp_path / "uploads").iterdir()) == []


@pytest.mark.django_db
def test_a_large_upload_spooled_to_disk_is_moved(client, data_admin, practices, queued,
                                                settings, tmp_path):  # fmt: skip
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path
    client.force_login(data_admin)
    job, page = preview(client, queued, name="march.csv")
    assert job.status == JobStatus.SUCCEEDED, job.error
    with upload_open(token=job.payload["upload"]) as staged:
        assert staged.read() == GOOD
    assert upload_file_name(token=job.payload["upload"]) == "march.csv"
    assert list(tmp_path.iterdir()) == []  # the temporary file was moved away
    upload_discard(token=job.payload["upload"])


# --- Links and permissions -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["surveyimport", "surveyresponse"])
def test_the_changelists_link_to_the_upload_page(client, data_admin, model):
    client.force_login(data_admin)
    page = client.get(reverse(f"admin:partners_{model}_changelist")).content.decode()
    assert f'<a href="{UPLOAD}"' in page
    assert "Import survey file" in page


@pytest.mark.django_db
def test_a_data_admin_sees_the_upload_form(client, data_admin):
    client.force_login(data_admin)
    page = client.get(UPLOAD)
    assert page.status_code == 200
    assert 'type="file" name="file"' in page.content.decode()
    assert 'name="source"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["surgeon", "consultant", None])
def test_other_roles_are_sent_to_log_in(client, request, role, queued):
    # As everywhere in the admin: users who are not staff get the admin's login page,
    # anonymous visitors the site's (LoginRequiredMiddleware answers first).
    if role:
        client.force_login(request.getfixturevalue(role))
    login = reverse("admin:login") if role else reverse("login")
    job = _job(JobStatus.SUCCEEDED)
    for response in (client.get(UPLOAD), upload(client, GOOD), client.get(job_url(job)),
                     client.post(job_url(job), {"confirm": "1"})):  # fmt: skip
        assert response.status_code == 302
        assert response["Location"].startswith(f"{login}?next=")
    assert Job.objects.count() == 1 and queued == []


@pytest.mark.django_db
def test_staff_without_permission_gets_403(client, django_user_model, queued):
    client.force_login(django_user_model.objects.create_user("staff", is_staff=True))
    job = _job(JobStatus.SUCCEEDED)
    assert client.get(UPLOAD).status_code == 403
    assert upload(client, GOOD).status_code == 403
    assert client.get(job_url(job)).status_code == 403
    assert client.post(job_url(job), {"confirm": "1"}).status_code == 403
    assert Job.objects.count() == 1 and queued == []


# --- End to end, on a real worker ------------------------------------------------------------


def _finished(job):
    job.refresh_from_db()
    return job.is_finished


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_upload_check_import_and_undo_on_a_real_worker(
    client, celery_worker, data_admin, practices
):
    larkspur, _ = practices
    client.force_login(data_admin)
    response = upload(client, GOOD)
    checked = Job.objects.get(kind="survey_preview")
    assert response["Location"] == job_url(checked)
    wait_for(lambda: _finished(checked), worker=celery_worker)
    assert checked.status == JobStatus.SUCCEEDED, checked.error
    page = client.get(job_url(checked), headers={"HX-Request": "true"})
    assert figures(page)["NPS of the file"] == "33.3"
    assert "hx-trigger" not in page.content.decode()
    assert nothing_written()

    client.post(job_url(checked), {"confirm": "1"})
    job = Job.objects.get(kind="survey_import")
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    survey_import = SurveyImport.objects.get()
    assert f"Imported survey.csv as import #{survey_import.pk}: 6 responses imported." in text(
        client.get(job_url(job))
    )
    assert survey_import.imported_by == data_admin
    assert rollups_differences() == []
    assert larkspur_nps(larkspur) == (3, pytest.approx(100 * 2 / 3))

    # Undone from the list of imports, by the same worker.
    undo = client.post(reverse("admin:partners_surveyimport_changelist"), {
        "action": "delete_selected", "post": "yes", ACTION_CHECKBOX_NAME: [survey_import.pk],
    })  # fmt: skip
    job = Job.objects.get(kind="survey_undo")
    assert undo["Location"] == reverse("survey_undo_job", args=[job.pk])
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert (
        f"Undid import #{survey_import.pk} (survey.csv): 6 responses and 2 comments deleted"
        in text(client.get(undo["Location"]))
    )
    assert nothing_written() and not SurveyImport.objects.exists()
    assert rollups_differences() == []
