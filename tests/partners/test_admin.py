"""The Django admin is for data admins only, and speaks the domain's words."""

import datetime

import pytest
from django.urls import reverse

from partners.models import Affiliation

from .factories import affiliate, make_interview, make_mso, make_practice

pytestmark = pytest.mark.django_db

ADMIN_MODELS = [
    "mso", "practice", "affiliation", "accreditation", "qualitydesignation", "surveyimport",
    "surveyresponse", "surveycomment", "aggregatenpssubmission", "referenceinterview", "claim",
    "benchmark", "job",
]  # fmt: skip


@pytest.fixture
def evidence():
    mso = make_mso()
    practice = make_practice()
    affiliate(practice, mso)
    make_interview(mso)
    return mso, practice


@pytest.mark.parametrize("model", ADMIN_MODELS)
def test_data_admin_can_open_every_changelist_and_add_page(client, data_admin, evidence, model):
    client.force_login(data_admin)
    assert client.get(reverse(f"admin:partners_{model}_changelist")).status_code == 200
    if model != "job":
        assert client.get(reverse(f"admin:partners_{model}_add")).status_code == 200


def test_data_admin_can_open_change_pages_with_inlines(client, data_admin, evidence):
    mso, practice = evidence
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_mso_change", args=[mso.pk]))
    assert page.status_code == 200
    assert b"Service areas offered" in page.content
    assert practice.code.encode() in page.content  # the affiliation inline
    interview = mso.interviews.get()
    page = client.get(reverse("admin:partners_referenceinterview_change", args=[interview.pk]))
    assert b"Promise items" in page.content


@pytest.mark.parametrize("role", ["surgeon", "consultant"])
def test_admin_is_refused_to_other_roles(client, request, role):
    client.force_login(request.getfixturevalue(role))
    response = client.get(reverse("admin:partners_mso_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_admin_tells_a_user_without_a_role_to_ask_for_access(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("admin:partners_mso_changelist"))
    assert response.status_code == 403
    assert b"Ask for access" in response.content


def test_admin_is_refused_to_anonymous(client):
    response = client.get(reverse("admin:partners_mso_changelist"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_staff_without_the_data_admin_role_gets_403(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("admin:partners_mso_changelist")).status_code == 403


def test_admin_refuses_an_overlapping_affiliation_with_the_domain_message(
    client, data_admin, evidence
):
    mso, practice = evidence
    other = make_mso("Quillon Oral Surgery Partners")
    client.force_login(data_admin)
    response = client.post(reverse("admin:partners_affiliation_add"), {
        "practice": practice.pk, "mso": other.pk, "started_on": "2023-01-01", "ended_on": "",
    })  # fmt: skip
    assert response.status_code == 200
    assert (
        "The practice is already affiliated with Larkspur Surgical Partners from 2020-01-01 to now"
        in response.content.decode()
    )
    assert Affiliation.objects.count() == 1


def test_admin_refuses_overlaps_between_two_new_inline_rows(client, data_admin):
    mso = make_mso()
    practice = make_practice()
    client.force_login(data_admin)
    prefix = "affiliations"
    data = {
        "code": practice.code, "name": practice.name, "city": "Springfield", "state": "IL",
        "surgeons": 1,
        f"{prefix}-TOTAL_FORMS": 2, f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-0-mso": mso.pk, f"{prefix}-0-started_on": "2020-01-01",
        f"{prefix}-1-mso": make_mso("Quillon Oral Surgery Partners").pk,
        f"{prefix}-1-started_on": "2021-01-01",
    }  # fmt: skip
    for inline in ("accreditations", "quality_designations"):
        data.update({f"{inline}-TOTAL_FORMS": 0, f"{inline}-INITIAL_FORMS": 0})
    response = client.post(reverse("admin:partners_practice_change", args=[practice.pk]), data)
    assert response.status_code == 200
    assert "a practice belongs to at most one MSO at a time" in response.content.decode()
    assert Affiliation.objects.count() == 0


def test_admin_rating_out_of_range_shows_the_rule(client, data_admin, evidence):
    mso, _ = evidence
    client.force_login(data_admin)
    data = {
        "mso": mso.pk, "interviewee": "Dr. B", "years_affiliated": 2, "provenance": "independent",
        "interviewer": "C", "interviewed_on": datetime.date(2025, 1, 1).isoformat(),
        "trust": 7, "would_choose_again": "yes", "autonomy": 3,
        "promise_ledger-TOTAL_FORMS": 0, "promise_ledger-INITIAL_FORMS": 0,
    }  # fmt: skip
    response = client.post(reverse("admin:partners_referenceinterview_add"), data)
    assert response.status_code == 200
    assert "Trust is rated from 1 to 5." in response.content.decode()
    assert mso.interviews.count() == 1


def test_admin_changes_to_evidence_queue_one_recompute(
    client, data_admin, evidence, settings, django_capture_on_commit_callbacks, monkeypatch
):
    from partners.models import Job

    settings.SCORECARDS_AUTO_RECOMPUTE = True
    monkeypatch.setattr("partners.jobs.job_send", lambda **k: True)
    mso, practice = evidence
    client.force_login(data_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:partners_claim_add"), {
            "mso": mso.pk, "statement": "Full clinical autonomy.", "kind": "full_autonomy",
            "parameters": "{}", "source": "", "stated_on": "",
        })  # fmt: skip
    assert response.status_code == 302
    assert Job.objects.filter(kind="compute_scorecards", status="queued").count() == 1


def test_the_job_admin_page_has_no_broken_view_on_site_link(client, data_admin):
    from partners.models import Job

    job = Job.objects.create(kind="survey_undo", payload={"imports": []})
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_job_change", args=[job.pk]))
    assert page.status_code == 200
    assert "View on site" not in page.content.decode()
