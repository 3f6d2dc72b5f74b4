"""The reference interview pages: capture in the article's order, validation, permissions."""

import datetime
import re

import pytest
from django.urls import reverse

from partners.models import PromiseItem, ReferenceInterview, ServiceArea

from .factories import affiliate, make_interview, make_mso, make_practice

pytestmark = pytest.mark.django_db


@pytest.fixture
def mso():
    return make_mso()


@pytest.fixture
def practice(mso):
    practice = make_practice()
    affiliate(practice, mso, datetime.date(2020, 1, 1), datetime.date(2024, 12, 31))
    return practice


def form_data(mso, **overrides):
    data = {
        "mso": mso.pk, "practice": "", "interviewee": "Dr. Robin Vale", "years_affiliated": 4,
        "provenance": "independent", "consent_to_quote": "on", "interviewer": "Sam",
        "interviewed_on": "2024-05-02", "promised": "A new CBCT scanner.",
        "delivered": "The scanner, a year late.", "trust": 4, "would_choose_again": "unsure",
        "advice": "Read the autonomy clause twice.", "autonomy": 5,
    }  # fmt: skip
    areas = ServiceArea.values
    data.update({"ledger-TOTAL_FORMS": len(areas), "ledger-INITIAL_FORMS": len(areas)})
    for i, area in enumerate(areas):
        data[f"ledger-{i}-service_area"] = area
    data.update({"ledger-0-outcome": "kept", "ledger-3-outcome": "broken",
                 "ledger-3-note": "Payor rates never renegotiated."})  # fmt: skip
    data.update(overrides)
    return data


def test_consultant_records_an_interview_with_its_ledger(client, consultant, mso, practice):
    client.force_login(consultant)
    response = client.post(reverse("interview_create"), form_data(mso, practice=practice.pk))
    assert response.status_code == 302
    interview = ReferenceInterview.objects.get()
    assert (interview.trust, interview.autonomy, interview.would_choose_again) == (4, 5, "unsure")
    assert interview.recorded_by == consultant and interview.practice == practice
    assert sorted(PromiseItem.objects.values_list("service_area", "outcome", "note")) == [
        (ServiceArea.values[0], "kept", ""),
        (ServiceArea.values[3], "broken", "Payor rates never renegotiated."),
    ]


def test_the_form_asks_the_article_questions_in_order(client, consultant):
    client.force_login(consultant)
    page = client.get(reverse("interview_create")).content.decode()
    questions = ["What was promised?", "What was delivered?", "Do you trust your MSO partner?",
                 "Would you make the same decision again?", "What advice would you give",
                 "Clinical autonomy experienced"]  # fmt: skip
    positions = [page.index(q) for q in questions]
    assert positions == sorted(positions)
    assert page.count('name="ledger-') > len(ServiceArea.values)


@pytest.mark.parametrize("field, value, message", [
    ("trust", 6, "Select a valid choice. 6 is not one of the available choices."),
    ("autonomy", 0, "Select a valid choice. 0 is not one of the available choices."),
    ("interviewed_on", "2099-01-01", "The interview date cannot be in the future."),
    ("years_affiliated", 61, "Years affiliated must be between 0 and 60."),
])  # fmt: skip
def test_invalid_answers_are_refused_with_a_clear_message(client, consultant, mso, field, value,
                                                          message):
    client.force_login(consultant)
    response = client.post(reverse("interview_create"), form_data(mso, **{field: value}))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ReferenceInterview.objects.exists()


def test_practice_must_be_affiliated_with_the_mso_on_the_interview_date(
    client, consultant, mso, practice
):
    client.force_login(consultant)
    data = form_data(mso, practice=practice.pk, interviewed_on="2025-03-01")
    response = client.post(reverse("interview_create"), data)
    assert (
        f"{practice.name} was not affiliated with {mso.name} on 2025-03-01"
        in response.content.decode()
    )
    assert not ReferenceInterview.objects.exists()


def test_a_note_needs_an_outcome(client, consultant, mso):
    client.force_login(consultant)
    data = form_data(mso, **{"ledger-5-note": "They said maybe."})
    response = client.post(reverse("interview_create"), data)
    assert "Say whether this promise was kept, partly kept or broken." in response.content.decode()
    assert not ReferenceInterview.objects.exists()


@pytest.mark.parametrize("url", ["interview_list", "interview_create"])
def test_surgeons_cannot_see_or_record_interviews(client, surgeon, url):
    client.force_login(surgeon)
    assert client.get(reverse(url)).status_code == 403


def test_consultant_edits_own_but_not_others_interviews(client, consultant, data_admin, mso):
    own = make_interview(mso, recorded_by=consultant)
    other = make_interview(mso, recorded_by=data_admin, interviewee="Dr. Other")
    client.force_login(consultant)
    response = client.post(reverse("interview_edit", args=[own.pk]),
                           form_data(mso, interviewee="Dr. Renamed"))  # fmt: skip
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.interviewee == "Dr. Renamed"
    assert client.get(reverse("interview_edit", args=[other.pk])).status_code == 403
    assert client.post(reverse("interview_delete", args=[other.pk])).status_code == 403
    assert ReferenceInterview.objects.filter(pk=other.pk).exists()


def test_data_admin_edits_and_deletes_any_interview(client, consultant, data_admin, mso):
    interview = make_interview(mso, recorded_by=consultant)
    PromiseItem.objects.create(interview=interview, service_area="hr", outcome="kept")
    client.force_login(data_admin)
    page = client.get(reverse("interview_edit", args=[interview.pk])).content.decode()
    assert 'value="kept" id="id_ledger-1-outcome_1" checked' in page
    response = client.post(reverse("interview_delete", args=[interview.pk]))
    assert response.status_code == 302
    assert not ReferenceInterview.objects.exists() and not PromiseItem.objects.exists()


def test_list_shows_interviews_and_filters_by_mso(client, consultant, mso):
    make_interview(mso, interviewee="Dr. Listed")
    make_interview(make_mso("Quillon Oral Surgery Partners"), interviewee="Dr. Elsewhere")
    client.force_login(consultant)
    page = client.get(reverse("interview_list"), {"mso": mso.slug}).content.decode()
    assert "Dr. Listed" in page and "Dr. Elsewhere" not in page


def test_practice_choices_follow_the_mso(client, consultant, mso, practice):
    make_practice("P-other", name="Unrelated Practice")
    client.force_login(consultant)
    options = client.get(reverse("interview_practices"), {"mso": mso.pk}).content.decode()
    assert practice.name in options and "Unrelated Practice" not in options


def test_saving_an_interview_asks_for_a_recompute(client, consultant, mso, settings,
                                                  django_capture_on_commit_callbacks, monkeypatch):
    from partners.models import Job

    settings.SCORECARDS_AUTO_RECOMPUTE = True
    monkeypatch.setattr("partners.jobs.job_send", lambda **k: True)
    client.force_login(consultant)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("interview_create"), form_data(mso))
        client.post(reverse("interview_create"), form_data(mso, interviewee="Dr. Two"))
    assert ReferenceInterview.objects.count() == 2
    assert Job.objects.filter(kind="compute_scorecards", status="queued").count() == 1


# --- Crafted promise-ledger posts: a form error, never a server error -----------------------


def _without(data, *keys):
    return {k: v for k, v in data.items() if k not in keys}


@pytest.mark.parametrize("data, message", [
    (lambda mso: form_data(mso, **{"ledger-2-service_area": "bogus"}),
     'Promise ledger row 3: “bogus” is not a service area.'),
    (lambda mso: _without(form_data(mso), "ledger-2-service_area"),
     "Promise ledger row 3: the service area is missing."),
    (lambda mso: form_data(mso, **{"ledger-2-service_area": ""}),
     "Promise ledger row 3: the service area is missing."),
    (lambda mso: form_data(mso, **{"ledger-2-service_area": ServiceArea.values[0]}),
     "Promise ledger row 3: Marketing appears twice; each service area appears once."),
], ids=["bogus", "missing", "empty", "duplicate"])  # fmt: skip
def test_a_crafted_ledger_row_is_refused_with_a_form_error(client, consultant, mso, data, message):
    client.force_login(consultant)
    response = client.post(reverse("interview_create"), data(mso))
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and "Please correct the errors below." in page
    assert not ReferenceInterview.objects.exists()


@pytest.mark.parametrize("total", [len(ServiceArea.values) + 1, 5000])
def test_the_ledger_accepts_at_most_one_row_per_service_area(client, consultant, mso, total):
    client.force_login(consultant)
    data = form_data(mso, **{"ledger-TOTAL_FORMS": total})
    response = client.post(reverse("interview_create"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The promise ledger has at most 11 rows, one per service area." in page
    # Never more rows than service areas are built or shown.
    assert len(re.findall(r'name="ledger-\d+-service_area"', page)) == len(ServiceArea.values)
    assert len(response.context["ledger"].forms) <= len(ServiceArea.values)
    assert not ReferenceInterview.objects.exists()


def test_the_ledger_formset_has_a_sane_maximum():
    from partners.forms import PromiseFormSet

    assert PromiseFormSet.max_num == PromiseFormSet.absolute_max == len(ServiceArea.values) == 11
    assert PromiseFormSet.validate_max


def test_a_ledger_without_its_management_form_is_refused(client, consultant, mso):
    client.force_login(consultant)
    data = _without(form_data(mso), "ledger-TOTAL_FORMS", "ledger-INITIAL_FORMS")
    response = client.post(reverse("interview_create"), data)
    assert response.status_code == 200
    assert "The promise ledger was not sent completely" in response.content.decode()
    assert not ReferenceInterview.objects.exists()


def test_editing_with_a_crafted_ledger_keeps_the_interview(client, consultant, mso):
    interview = make_interview(mso, recorded_by=consultant)
    PromiseItem.objects.create(interview=interview, service_area="hr", outcome="kept")
    client.force_login(consultant)
    data = form_data(
        mso,
        interviewee="Dr. Renamed",
        **{"ledger-0-service_area": "nonsense", "ledger-TOTAL_FORMS": 5000},
    )
    response = client.post(reverse("interview_edit", args=[interview.pk]), data)
    assert response.status_code == 200
    assert "The promise ledger has at most 11 rows" in response.content.decode()
    data = form_data(mso, interviewee="Dr. Renamed", **{"ledger-0-service_area": "nonsense"})
    response = client.post(reverse("interview_edit", args=[interview.pk]), data)
    assert response.status_code == 200
    assert "Promise ledger row 1: “nonsense” is not a service area." in response.content.decode()
    interview.refresh_from_db()
    assert interview.interviewee != "Dr. Renamed"
    assert list(interview.promise_ledger.values_list("service_area", "outcome")) == [("hr", "kept")]


def test_consultants_read_any_interview_and_see_a_name_only_with_consent(client, consultant,
                                                                         mso):  # fmt: skip
    from partners.roles import CONSULTANT
    from tests.conftest import _user

    recorder = _user("recorder", CONSULTANT)
    private = make_interview(mso, interviewee="Dr. Private Person", recorded_by=recorder,
                             consent_to_quote=False, promised="Marketing every month.")
    named = make_interview(mso, interviewee="Dr. Quotable", recorded_by=recorder,
                           consent_to_quote=True)
    PromiseItem.objects.create(interview=private, service_area="hr", outcome="broken")
    client.force_login(consultant)
    page = client.get(reverse("interview_detail", args=[private.pk])).content.decode()
    assert "Marketing every month." in page and "Broken" in page
    assert "Dr. Private Person" not in page and "not named: no consent" in page
    assert "Edit this interview" not in page
    page = client.get(reverse("interview_detail", args=[named.pk])).content.decode()
    assert "Dr. Quotable" in page
    client.force_login(recorder)
    assert "Dr. Private Person" in client.get(
        reverse("interview_detail", args=[private.pk])).content.decode()


def test_surgeons_cannot_read_interviews(client, surgeon, mso):
    interview = make_interview(mso)
    client.force_login(surgeon)
    assert client.get(reverse("interview_detail", args=[interview.pk])).status_code == 403
