"""Free text comes back escaped on every page; patients' comments never leave the data
admins' pages: not in a surgeon's or consultant's page, an export, a job's task arguments or
a log line."""

import datetime
import io
import json
import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

from partners.models import Claim, Job, PromiseItem, SurveyComment
from partners.surveys.importing import surveys_import
from scorecards.models import ChecklistAnswer, ShortlistEntry
from scorecards.services import scorecard_compute

from .partners.factories import affiliate, make_interview, make_mso, make_practice

pytestmark = pytest.mark.django_db

PAYLOADS = [
    '<script>alert("x1")</script>',
    '"><img src=x onerror=alert("x2")>',
    "'><svg onload=alert('x3')>",
    "javascript:alert('x4')//<a href=\"javascript:alert('x5')\">",
    "{{ 7|add:7 }}{% now 'Y' %}",
]
RAW = ["<script>alert(", "<img src=x onerror", "<svg onload", '<a href="javascript:']
MARKER = "PATIENT-MARKER-7f3a"


def _payload(i):
    return PAYLOADS[i % len(PAYLOADS)]


@pytest.fixture
def hostile(surgeon, consultant):
    """Every free-text field a user can fill, filled with a payload; a patient comment with
    the marker; a snapshot computed over it."""
    mso = make_mso("Hostile MSO " + _payload(0), slug="hostile", specialties=_payload(1),
                   clinical_autonomy_terms=_payload(2), reported_states=_payload(3),
                   values=_payload(4))  # fmt: skip
    other = make_mso("Second MSO " + _payload(1), slug="second")
    practice = make_practice("P-1", name="Practice " + _payload(2), city=_payload(3))
    affiliate(practice, mso)
    affiliate(make_practice("P-2"), other)
    interview = make_interview(mso, interviewee="Dr " + _payload(0), interviewer=_payload(1),
                               promised=_payload(2), delivered=_payload(3), advice=_payload(4),
                               recorded_by=consultant)  # fmt: skip
    PromiseItem.objects.create(interview=interview, service_area="marketing", outcome="kept",
                               note=_payload(0))  # fmt: skip
    Claim.objects.create(mso=mso, statement=_payload(1), source=_payload(2))
    entry = ShortlistEntry.objects.create(user=surgeon, mso=mso, note=_payload(3))
    ChecklistAnswer.objects.create(entry=entry, item="ownership_autonomy",
                                   note=_payload(4))  # fmt: skip
    rows = "".join(f"P-1,2025-0{m}-10,{s},{MARKER} {_payload(m)}\n" for m, s in
                   ((1, 9), (2, 3), (3, 10), (4, 7)))  # fmt: skip
    surveys_import(stream=io.BytesIO(("practice,responded_on,score,comment\n" + rows).encode()),
                   file_name="s.csv", source="vendor")  # fmt: skip
    scorecard_compute(as_of=datetime.date(2025, 6, 1))
    return {"mso": mso, "entry": entry, "interview": interview}


def _pages(world):
    slug = world["mso"].slug
    return {
        "surgeon": ["/", "/msos/", f"/msos/{slug}/", f"/compare/?m={slug}&m=second",
                    "/shortlist/", "/scorecards/", "/api/scorecards/latest.json"],
        "consultant": ["/", "/msos/", f"/msos/{slug}/", "/scorecards/", "/interviews/",
                       reverse("interview_edit", args=[world["interview"].pk])],
    }  # fmt: skip


def _check(text, where):
    for raw in RAW:
        assert raw not in text, f"{raw!r} unescaped in {where}"


def test_every_free_text_field_comes_back_escaped(client, surgeon, consultant, data_admin,
                                                  hostile):  # fmt: skip
    users = {"surgeon": surgeon, "consultant": consultant}
    for role, pages in _pages(hostile).items():
        client.force_login(users[role])
        for path in pages:
            response = client.get(path)
            assert response.status_code == 200, path
            if response["Content-Type"].startswith("application/json"):
                # JSON is exact (and served as JSON, never sniffed as HTML).
                assert response["X-Content-Type-Options"] == "nosniff"
                assert "Hostile MSO " + PAYLOADS[0] in [m["name"] for m in response.json()["msos"]]
                continue
            _check(response.content.decode(), f"{path} as {role}")
    client.force_login(data_admin)
    for name in ("mso", "practice", "referenceinterview", "claim", "surveycomment"):
        path = reverse(f"admin:partners_{name}_changelist")
        _check(client.get(path).content.decode(), path)
    client.force_login(surgeon)
    assert "&lt;script&gt;alert(" in client.get(f"/msos/{hostile['mso'].slug}/").content.decode()


def test_patient_comments_reach_no_surgeon_or_consultant_page_export_task_or_log(
    client, surgeon, consultant, data_admin, hostile, caplog, queued
):
    assert SurveyComment.objects.filter(text__contains=MARKER).count() == 4
    with caplog.at_level(logging.DEBUG):
        for role, user in (("surgeon", surgeon), ("consultant", consultant)):
            client.force_login(user)
            for path in _pages(hostile)[role]:
                assert MARKER not in client.get(path).content.decode(), f"{path} as {role}"
        # Exports.
        for fmt in ("json", "csv"):
            out = io.StringIO()
            call_command("export_scorecard", format=fmt, stdout=out)
            assert MARKER not in out.getvalue()
        # Jobs: their payloads (the task's only argument is the job's id) and results.
        client.force_login(data_admin)
        file = io.BytesIO(f"practice,responded_on,score,comment\nP-1,2025-05-01,9,{MARKER}\n"
                          .encode())  # fmt: skip
        file.name = "more.csv"
        client.post(reverse("survey_upload"), {"file": file, "source": "other"})
        from .conftest import run_jobs

        run_jobs(queued)
        client.post(reverse("scorecard_recompute"))
        run_jobs(queued)
    for job in Job.objects.all():
        assert MARKER not in json.dumps([job.payload, job.result, job.error, job.message])
    assert MARKER not in caplog.text
    # The data admins do see them, where they belong.
    page = client.get(reverse("admin:partners_surveycomment_changelist"))
    assert MARKER in page.content.decode()
