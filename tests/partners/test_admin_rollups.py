"""Admin edits of responses, affiliations and imports keep the NPS rollups equal to the raw data.

Every test checks ``rollups_differences()`` after the change and that the NPS figures read
from the rollups actually moved.
"""

import datetime
import io
import re
from unittest import mock

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from partners.jobs import job_enqueue
from partners.models import Affiliation, Job, SurveyComment, SurveyImport, SurveyResponse
from partners.roles import CONSULTANT
from partners.rollups import rollups_differences
from partners.selectors import mso_nps, practice_nps
from partners.surveys.importing import survey_import_undo, surveys_import
from partners.tasks import survey_undo
from scorecards.statistics import nps_estimate

from ..conftest import run_jobs
from .factories import affiliate, make_mso, make_practice

pytestmark = pytest.mark.django_db

FIRST, LAST = datetime.date(2024, 1, 1), datetime.date(2024, 12, 1)


def import_file(text, name="survey.csv", source="Vendor"):
    return surveys_import(stream=io.BytesIO(text.encode()), file_name=name, source=source)


@pytest.fixture
def evidence():
    """Two MSOs with one practice each, and one import: P-1 (Larkspur) gives 10, 9, 6."""
    larkspur, quillon = make_mso(), make_mso("Quillon Oral Surgery Partners")
    p1, p2 = make_practice("P-1"), make_practice("P-2")
    affiliate(p1, larkspur)
    affiliate(p2, quillon)
    report = import_file(
        "practice,responded_on,score,response_id,comment\n"
        "P-1,2024-01-10,10,r1,Pain after the extraction was well managed\n"
        "P-1,2024-02-10,9,r2,\n"
        "P-1,2024-03-10,6,r3,\n"
        "P-2,2024-01-20,10,r4,\n"
        "P-2,2024-02-20,7,r5,\n"
    )
    assert rollups_differences() == []
    return larkspur, quillon, p1, p2, SurveyImport.objects.get(pk=report.survey_import_id)


def nps(mso):
    estimate = nps_estimate(*mso_nps(mso_id=mso.pk, first_month=FIRST, last_month=LAST))
    return estimate.n, None if estimate.nps is None else round(estimate.nps, 1)


def practice_n(practice):
    return practice_nps(practice_id=practice.pk, first_month=FIRST, last_month=LAST).n


def form_data(page):
    """The POST data of an admin change page's form and inline formsets, as rendered."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            data[form.add_prefix(name)] = "on" if value is True else value

    add(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.initial_forms:
            add(form)
    return data


def change(client, model, obj, **changes):
    url = reverse(f"admin:partners_{model}_change", args=[obj.pk])
    data = {**form_data(client.get(url)), **changes}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["errors"]
    return response


def response(response_id):
    return SurveyResponse.objects.get(response_id=response_id)


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- Responses -------------------------------------------------------------------------------


def test_changing_a_score_updates_the_rollups(client, data_admin, evidence):
    larkspur, quillon, *_ = evidence
    assert nps(larkspur) == (3, 33.3)
    client.force_login(data_admin)
    change(client, "surveyresponse", response("r1"), score="0")
    assert response("r1").score == 0
    assert rollups_differences() == []
    assert nps(larkspur) == (3, -33.3)
    assert nps(quillon) == (2, 50.0)


def test_moving_a_response_to_another_practice_moves_it_to_that_mso(client, data_admin, evidence):
    larkspur, quillon, p1, p2, _ = evidence
    client.force_login(data_admin)
    change(client, "surveyresponse", response("r1"), practice=str(p2.pk))
    assert rollups_differences() == []
    assert nps(larkspur) == (2, 0.0)
    assert nps(quillon) == (3, 66.7)
    assert (practice_n(p1), practice_n(p2)) == (2, 3)


def test_moving_a_response_to_another_month_keeps_the_rollups_exact(client, data_admin, evidence):
    larkspur, *_ = evidence
    client.force_login(data_admin)
    change(client, "surveyresponse", response("r1"), responded_on="2023-12-31")
    assert rollups_differences() == []
    assert nps(larkspur) == (2, 0.0)  # December 2023 is outside 2024


def test_deleting_a_response_updates_the_rollups(client, data_admin, evidence):
    larkspur, *_ = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_surveyresponse_delete", args=[response("r1").pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not SurveyResponse.objects.filter(response_id="r1").exists()
    assert not SurveyComment.objects.exists()
    assert rollups_differences() == []
    assert nps(larkspur) == (2, 0.0)


def test_bulk_deleting_responses_updates_the_rollups(client, data_admin, evidence):
    larkspur, quillon, *_ = evidence
    client.force_login(data_admin)
    selected = [response("r1").pk, response("r4").pk]
    client.post(reverse("admin:partners_surveyresponse_changelist"), {
        "action": "delete_selected", ACTION_CHECKBOX_NAME: selected, "post": "yes",
    })  # fmt: skip
    assert SurveyResponse.objects.count() == 3
    assert rollups_differences() == []
    assert nps(larkspur) == (2, 0.0)
    assert nps(quillon) == (1, 0.0)


def test_an_edit_whose_rollup_update_fails_is_rolled_back(client, data_admin, evidence):
    """The rollups are updated in the transaction of the edit: both happen or neither."""
    larkspur, *_ = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_surveyresponse_change", args=[response("r1").pk])
    data = {**form_data(client.get(url)), "score": "0"}
    with mock.patch("partners.services.rollups_rebuild_practices", side_effect=RuntimeError):
        with pytest.raises(RuntimeError):
            client.post(url, data)
    assert response("r1").score == 10
    assert rollups_differences() == []
    assert nps(larkspur) == (3, 33.3)


def test_the_response_list_does_not_show_comments(client, data_admin, evidence):
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_surveyresponse_changelist"))
    assert page.status_code == 200
    assert '<td class="field-response_id">r1</td>' in page.content.decode()
    assert "Pain after the extraction" not in page.content.decode()


# --- Affiliations ----------------------------------------------------------------------------


def test_ending_an_affiliation_leaves_later_responses_unaffiliated(client, data_admin, evidence):
    larkspur, quillon, p1, *_ = evidence
    client.force_login(data_admin)
    change(client, "affiliation", p1.affiliations.get(), ended_on="2024-01-31")
    assert rollups_differences() == []
    assert nps(larkspur) == (1, 100.0)  # only January's 10 is still Larkspur's
    assert practice_n(p1) == 3


def test_moving_an_affiliation_to_another_mso_moves_its_responses(client, data_admin, evidence):
    larkspur, quillon, p1, *_ = evidence
    client.force_login(data_admin)
    change(client, "affiliation", p1.affiliations.get(), mso=str(quillon.pk))
    assert rollups_differences() == []
    assert nps(larkspur) == (0, None)
    assert nps(quillon) == (5, 40.0)


def test_adding_an_affiliation_in_the_admin_attributes_the_responses(
    client, data_admin, evidence
):
    larkspur, quillon, p1, *_ = evidence
    p3 = make_practice("P-3")
    import_file("practice,responded_on,score\nP-3,2024-05-01,10\n", name="p3.csv")
    assert nps(quillon) == (2, 50.0)
    client.force_login(data_admin)
    response = client.post(reverse("admin:partners_affiliation_add"), {
        "practice": p3.pk, "mso": quillon.pk, "started_on": "2024-01-01", "ended_on": "",
    })  # fmt: skip
    assert response.status_code == 302
    assert rollups_differences() == []
    assert nps(quillon) == (3, 66.7)


def test_deleting_an_affiliation_updates_the_rollups(client, data_admin, evidence):
    larkspur, quillon, p1, *_ = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_affiliation_delete", args=[p1.affiliations.get().pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert rollups_differences() == []
    assert nps(larkspur) == (0, None)
    assert practice_n(p1) == 3


def test_bulk_deleting_affiliations_updates_the_rollups(client, data_admin, evidence):
    larkspur, quillon, *_ = evidence
    client.force_login(data_admin)
    client.post(reverse("admin:partners_affiliation_changelist"), {
        "action": "delete_selected", "post": "yes",
        ACTION_CHECKBOX_NAME: list(Affiliation.objects.values_list("pk", flat=True)),
    })  # fmt: skip
    assert not Affiliation.objects.exists()
    assert rollups_differences() == []
    assert (nps(larkspur), nps(quillon)) == ((0, None), (0, None))


def test_the_practice_affiliation_inline_updates_the_rollups(client, data_admin, evidence):
    """End the practice's affiliation with Larkspur in January and start one with Quillon."""
    larkspur, quillon, p1, *_ = evidence
    client.force_login(data_admin)
    change(client, "practice", p1, **{"affiliations-0-ended_on": "2024-01-31"})
    assert rollups_differences() == []
    assert nps(larkspur) == (1, 100.0)
    assert nps(quillon) == (2, 50.0)
    change(client, "practice", p1, **{
        "affiliations-TOTAL_FORMS": "2",
        "affiliations-1-mso": str(quillon.pk),
        "affiliations-1-started_on": "2024-02-01",
        "affiliations-1-practice": str(p1.pk),
    })  # fmt: skip
    assert p1.affiliations.count() == 2
    assert rollups_differences() == []
    assert nps(larkspur) == (1, 100.0)
    assert nps(quillon) == (4, 25.0)  # 10 and 7 of P-2, 9 and 6 of P-1


def test_deleting_an_affiliation_in_the_mso_inline_updates_the_rollups(
    client, data_admin, evidence
):
    larkspur, quillon, p1, *_ = evidence
    client.force_login(data_admin)
    change(client, "mso", larkspur, **{"affiliations-0-DELETE": "on"})
    assert not p1.affiliations.exists()
    assert rollups_differences() == []
    assert nps(larkspur) == (0, None)


def test_moving_an_affiliation_to_another_practice_in_the_mso_inline(
    client, data_admin, evidence
):
    """Both the practice it leaves and the practice it joins are rebuilt."""
    larkspur, quillon, p1, p2, _ = evidence
    p3 = make_practice("P-3")
    import_file("practice,responded_on,score\nP-3,2024-05-01,0\nP-3,2024-05-02,0\n", "p3.csv")
    client.force_login(data_admin)
    change(client, "mso", larkspur, **{"affiliations-0-practice": str(p3.pk)})
    assert rollups_differences() == []
    assert nps(larkspur) == (2, -100.0)


def test_deleting_an_mso_leaves_its_practices_responses_unaffiliated(
    client, data_admin, evidence
):
    larkspur, quillon, p1, *_ = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_mso_delete", args=[larkspur.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert rollups_differences() == []
    assert practice_n(p1) == 3
    assert nps(quillon) == (2, 50.0)


def test_bulk_deleting_msos_keeps_the_rollups_exact(client, data_admin, evidence):
    larkspur, quillon, p1, p2, _ = evidence
    client.force_login(data_admin)
    client.post(reverse("admin:partners_mso_changelist"), {
        "action": "delete_selected", "post": "yes", ACTION_CHECKBOX_NAME: [larkspur.pk, quillon.pk],
    })  # fmt: skip
    assert rollups_differences() == []
    assert (practice_n(p1), practice_n(p2)) == (3, 2)


# --- Survey imports --------------------------------------------------------------------------


@pytest.fixture
def second_import(evidence):
    report = import_file(
        "practice,responded_on,score,response_id,comment\n"
        "P-1,2024-04-10,0,s1,Nobody called me back about the biopsy\n"
        "P-2,2024-04-11,0,s2,\n",
        name="april.csv",
    )
    return SurveyImport.objects.get(pk=report.survey_import_id)


def undo_job_page(client, response, queued):
    """Follow a confirmed undo to its job page, run the job as the worker would, and return
    the page the data admin then sees."""
    job = Job.objects.get(pk=queued[0])
    assert response.status_code == 302
    assert response["Location"] == reverse("survey_undo_job", args=[job.pk])
    waiting = client.get(response["Location"]).content.decode()
    assert "Waiting for a worker to undo the import" in waiting
    assert SurveyImport.objects.filter(pk__in=job.payload["imports"]).exists()  # not yet
    assert run_jobs(queued).status == "succeeded"
    return client.get(response["Location"])


def test_the_undo_action_asks_first_then_undoes_the_imports_in_a_job(
    client, data_admin, evidence, second_import, queued
):
    larkspur, quillon, *_, first_import = evidence
    assert nps(larkspur) == (4, 0.0)
    client.force_login(data_admin)
    changelist = reverse("admin:partners_surveyimport_changelist")
    selected = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [second_import.pk]}
    page = client.post(changelist, selected)
    assert "Undo these survey imports?" in page.content.decode()
    assert page.context["counts"] == {"survey imports": 1, "survey responses": 2}
    assert SurveyImport.objects.count() == 2 and not queued  # nothing done before confirmation

    done = undo_job_page(client, client.post(changelist, {**selected, "post": "yes"}), queued)
    assert (
        f"Undid import #{second_import.pk} (april.csv): 2 responses and 1 comment deleted; "
        "the NPS rollups were updated."
    ) in done.content.decode()
    assert list(SurveyImport.objects.all()) == [first_import]
    assert not SurveyResponse.objects.filter(response_id__in=["s1", "s2"]).exists()
    assert list(SurveyComment.objects.values_list("text", flat=True)) == [
        "Pain after the extraction was well managed"
    ]
    assert first_import.responses.count() == 5
    assert rollups_differences() == []
    assert nps(larkspur) == (3, 33.3)


def test_the_undo_job_calls_the_undo_service_not_the_cascade(
    client, data_admin, evidence, second_import, queued
):
    client.force_login(data_admin)
    confirmed = client.post(reverse("admin:partners_surveyimport_changelist"), {
        "action": "delete_selected", "post": "yes",
        ACTION_CHECKBOX_NAME: [second_import.pk, evidence[-1].pk],
    })  # fmt: skip
    with mock.patch("partners.surveys.services.survey_import_undo", wraps=__import__(
        "partners.surveys.importing", fromlist=["survey_import_undo"]
    ).survey_import_undo) as undo:
        page = undo_job_page(client, confirmed, queued).content.decode()
    assert [c.kwargs["survey_import_id"] for c in undo.call_args_list] == sorted(
        [evidence[-1].pk, second_import.pk]
    )
    assert page.count("Undid import #") == 2
    assert not SurveyImport.objects.exists() and not SurveyResponse.objects.exists()
    assert rollups_differences() == []


def test_an_import_undone_meanwhile_is_reported_and_the_others_are_undone(
    client, data_admin, evidence, second_import, queued
):
    client.force_login(data_admin)
    first_import = evidence[-1]
    confirmed = client.post(reverse("admin:partners_surveyimport_changelist"), {
        "action": "delete_selected", "post": "yes",
        ACTION_CHECKBOX_NAME: [first_import.pk, second_import.pk],
    })  # fmt: skip
    survey_import_undo(survey_import_id=first_import.pk)  # e.g. by the command, meanwhile
    page = undo_job_page(client, confirmed, queued).content.decode()
    assert f"Import #{first_import.pk} no longer exists: it was undone already." in page
    assert f"Undid import #{second_import.pk} (april.csv)" in page
    assert not SurveyImport.objects.exists()
    assert rollups_differences() == []


def test_a_failed_undo_says_which_imports_were_undone_before_it(
    client, data_admin, evidence, second_import, queued
):
    first_import = evidence[-1]
    client.force_login(data_admin)
    confirmed = client.post(reverse("admin:partners_surveyimport_changelist"), {
        "action": "delete_selected", "post": "yes",
        ACTION_CHECKBOX_NAME: [first_import.pk, second_import.pk],
    })  # fmt: skip
    real_undo = survey_import_undo

    def undo_then_fail(*, survey_import_id):
        if survey_import_id == second_import.pk:
            raise RuntimeError("disk full")
        return real_undo(survey_import_id=survey_import_id)

    with mock.patch("partners.surveys.services.survey_import_undo", undo_then_fail):
        job = run_jobs(queued)
    assert job.status == "failed"
    assert job.error == (
        f"undoing import #{second_import.pk} failed (RuntimeError); "
        f"#{first_import.pk} had been undone before it"
    )
    page = client.get(confirmed["Location"]).content.decode()
    assert f"The undo stopped: {job.error}." in page
    assert list(SurveyImport.objects.all()) == [second_import]
    assert rollups_differences() == []


def test_htmx_polls_the_undo_partial_until_the_job_is_done(client, data_admin, evidence, queued):
    job = job_enqueue(task=survey_undo, kind="survey_undo", payload={"imports": [evidence[-1].pk]})
    url = reverse("survey_undo_job", args=[job.pk])
    client.force_login(data_admin)
    polled = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert polled.lstrip().startswith('<div id="survey-undo"')  # the partial, not the page
    assert 'hx-trigger="every 1s"' in polled
    run_jobs(queued)
    done = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in done and "Undid import #" in done


def test_the_undo_page_needs_the_delete_permission(client, evidence, queued):
    job = job_enqueue(task=survey_undo, kind="survey_undo", payload={"imports": [evidence[-1].pk]})
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_surveyimport"))
    viewer.groups.add(Group.objects.get(name=CONSULTANT))  # with no role, no page at all
    client.force_login(viewer)
    url = reverse("survey_undo_job", args=[job.pk])
    assert client.get(reverse("admin:partners_surveyimport_changelist")).status_code == 200
    assert client.get(url).status_code == 403


def test_deleting_an_import_on_its_page_undoes_it(
    client, data_admin, evidence, second_import, queued
):
    larkspur, quillon, *_, first_import = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_surveyimport_delete", args=[first_import.pk])
    page = client.get(url)
    text = page.content.decode()
    assert "Undo the survey import" in text
    assert "Survey responses: 5" in text
    assert "2024-01-10" not in text  # a summary, not a list of every response
    done = undo_job_page(client, client.post(url, {"post": "yes"}), queued)
    assert (
        f"Undid import #{first_import.pk} (survey.csv): 5 responses and 1 comment deleted; "
        "the NPS rollups were updated."
    ) in done.content.decode()
    assert list(SurveyImport.objects.all()) == [second_import]
    assert SurveyResponse.objects.count() == 2
    assert list(SurveyComment.objects.values_list("text", flat=True)) == [
        "Nobody called me back about the biopsy"
    ]
    assert rollups_differences() == []
    assert nps(larkspur) == (1, -100.0)
    assert nps(quillon) == (1, -100.0)


def test_the_import_list_shows_who_when_and_what(client, data_admin, evidence):
    *_, survey_import = evidence
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_surveyimport_changelist")).content.decode()
    for header in ("Import", "File name", "Source", "Imported by", "Imported at", "Rows",
                   "Skipped", "Checksum (SHA-256)"):  # fmt: skip
        assert f">{header}<" in page or f">{header}</a>" in page, header
    assert f"#{survey_import.pk}" in page
    assert survey_import.checksum[:12] in page
    assert "Undo selected imports" in page
    assert "Delete selected" not in page


def test_imports_cannot_be_edited_by_hand(client, data_admin, evidence):
    *_, survey_import = evidence
    client.force_login(data_admin)
    url = reverse("admin:partners_surveyimport_change", args=[survey_import.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert survey_import.checksum in page.content.decode()
    client.post(url, {"file_name": "renamed.csv", "source": "Other"})
    survey_import.refresh_from_db()
    assert (survey_import.file_name, survey_import.source) == ("survey.csv", "Vendor")


def test_the_import_add_page_is_the_upload_page(client, data_admin, evidence):
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_surveyimport_add")).content.decode()
    assert 'name="file"' in page and 'name="source"' in page
    assert 'name="checksum"' not in page
    assert re.search(r'action="[^"]*/surveyimport/upload/"', page)
