"""Every way the evidence can change keeps the NPS rollups equal to the raw responses.

One walk through every write path there is (the imports, the admin's pages and actions, the
undo job, the demo seeder), checking ``verify_rollups`` after each; and a control that the
check notices a write that bypasses the services."""

import datetime
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import call_command
from django.urls import reverse

from partners.aggregate_import import aggregates_import
from partners.models import MSO, Affiliation, Practice, SurveyImport, SurveyResponse
from partners.practice_import import practices_import
from partners.rollups import rollups_differences
from partners.surveys.importing import surveys_import

from ..conftest import run_jobs
from .factories import make_practice
from .test_admin_rollups import change

pytestmark = pytest.mark.django_db

PRACTICES = (
    "mso,practice_code,practice_name,city,state,affiliated_since,affiliated_until\n"
    "Larkspur Surgical Partners,P-1,Practice P-1,Austin,TX,2020-01-01,\n"
    "Quillon Oral Surgery Partners,P-2,Practice P-2,Dallas,TX,2020-01-01,\n"
    "Quillon Oral Surgery Partners,P-3,Practice P-3,Waco,TX,2020-01-01,\n"
)
SURVEYS = (
    "practice,responded_on,score,response_id\n"
    "P-1,2024-01-10,10,r1\nP-1,2024-02-10,9,r2\nP-1,2024-06-10,6,r3\nP-1,2024-07-01,3,r4\n"
    "P-2,2024-01-20,10,r5\nP-2,2024-02-20,7,r6\nP-3,2024-03-01,8,r7\nP-3,2024-04-01,2,r8\n"
)


def verified():
    out = io.StringIO()
    call_command("verify_rollups", stdout=out)  # exits with status 1 on a difference
    return "Rollups match the raw responses." in out.getvalue()


def post_action(client, model, action, pks):
    return client.post(reverse(f"admin:partners_{model}_changelist"), {
        "action": action, "post": "yes", ACTION_CHECKBOX_NAME: pks,
    })  # fmt: skip


def test_every_write_path_keeps_the_rollups_exact(client, data_admin, queued):
    client.force_login(data_admin)

    practices_import(data=PRACTICES.encode())
    surveys_import(stream=io.BytesIO(SURVEYS.encode()), file_name="a.csv", source="Vendor")
    assert verified()

    # A practice import that ends P-1's affiliation and moves it to Quillon from June.
    practices_import(data=(
        b"mso,practice_code,practice_name,city,state,affiliated_since,affiliated_until\n"
        b"Larkspur Surgical Partners,P-1,Practice P-1,Austin,TX,2020-01-01,2024-05-31\n"
        b"Quillon Oral Surgery Partners,P-1,Practice P-1,Austin,TX,2024-06-01,\n"
    ))  # fmt: skip
    assert verified()

    aggregates_import(data=(
        b"mso,period_start,period_end,promoters,passives,detractors\n"
        b"Larkspur Surgical Partners,2024-01-01,2024-12-31,90,5,5\n"
    ))  # fmt: skip
    assert verified()

    # The admin: a response edited, one deleted on its page, two by the bulk action.
    change(client, "surveyresponse", SurveyResponse.objects.get(response_id="r1"),
           score="0", responded_on="2024-06-15")  # fmt: skip
    assert verified()
    r2 = SurveyResponse.objects.get(response_id="r2")
    client.post(reverse("admin:partners_surveyresponse_delete", args=[r2.pk]), {"post": "yes"})
    post_action(client, "surveyresponse", "delete_selected",
                list(SurveyResponse.objects.filter(response_id__in=["r5", "r6"])
                     .values_list("pk", flat=True)))  # fmt: skip
    assert not SurveyResponse.objects.filter(response_id__in=["r2", "r5", "r6"]).exists()
    assert verified()

    # Affiliations: changed on their own page, through a practice's inline, deleted.
    p3 = Practice.objects.get(code="P-3")
    larkspur = MSO.objects.get(name="Larkspur Surgical Partners")
    change(client, "affiliation", p3.affiliations.get(), mso=str(larkspur.pk))
    assert verified()
    page = client.get(reverse("admin:partners_practice_change", args=[p3.pk]))
    prefix = page.context["inline_admin_formsets"][0].formset.prefix
    change(client, "practice", p3, **{f"{prefix}-0-started_on": "2024-03-15"})
    assert p3.affiliations.get().started_on == datetime.date(2024, 3, 15)
    assert verified()
    aff = Affiliation.objects.get(practice__code="P-2")
    client.post(reverse("admin:partners_affiliation_delete", args=[aff.pk]), {"post": "yes"})
    assert not Affiliation.objects.filter(pk=aff.pk).exists()
    assert verified()

    # A second import, then its undo (the admin's action queues a job).
    surveys_import(stream=io.BytesIO(b"practice,responded_on,score\nP-3,2024-05-05,10\n"),
                   file_name="b.csv", source="Vendor")  # fmt: skip
    assert verified()
    post_action(client, "surveyimport", "delete_selected",
                [SurveyImport.objects.get(file_name="b.csv").pk])
    assert run_jobs(queued).status == "succeeded"
    assert verified()

    # Deleting an MSO (its affiliations go with it) and a practice with no responses.
    client.post(reverse("admin:partners_mso_delete", args=[larkspur.pk]), {"post": "yes"})
    assert not MSO.objects.filter(pk=larkspur.pk).exists()
    assert verified()
    empty = make_practice("P-9")
    post_action(client, "practice", "delete_selected", [empty.pk])
    assert not Practice.objects.filter(pk=empty.pk).exists()
    assert verified()

    # The demo seeder, replacing everything.
    call_command("seed_demo", scale="tiny", seed=3, reset=True, stdout=io.StringIO())
    assert verified()


def test_a_write_that_bypasses_the_services_is_caught(client, data_admin):
    """The control: without the services, the same change leaves the rollups wrong."""
    practices_import(data=PRACTICES.encode())
    surveys_import(stream=io.BytesIO(SURVEYS.encode()), file_name="a.csv", source="Vendor")
    SurveyResponse.objects.filter(response_id="r1").update(score=0)
    assert rollups_differences() != []
    with pytest.raises(SystemExit):
        verified()
