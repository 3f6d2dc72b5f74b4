"""The audit trail: an entry with who, when and what changed for every create, change and
delete of the evidence, roles, methodology, imports and undos; nobody can change or delete it."""

import datetime
import io

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from partners.audit import audit_actor, audit_report
from partners.models import (
    MSO,
    Accreditation,
    Affiliation,
    Benchmark,
    Claim,
    Practice,
    QualityDesignation,
    ReferenceInterview,
    SurveyImport,
)
from partners.roles import CONSULTANT
from partners.surveys.importing import survey_import_undo, surveys_import
from scorecards.models import Methodology
from scorecards.services import methodology_new_version, methodology_publish

from ..conftest import run_jobs
from .factories import affiliate, make_interview, make_mso, make_practice
from .test_survey_upload_page import GOOD

pytestmark = pytest.mark.django_db


def entries(model, action=None):
    found = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model))
    return found.filter(action=action) if action is not None else found


def test_an_admin_change_records_who_what_and_the_old_and_new_values(client, data_admin):
    mso = make_mso()
    client.force_login(data_admin)
    page = client.get(reverse("admin:partners_mso_change", args=[mso.pk]))
    form = page.context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "founded_year"}
    data.update({"name": "Larkspur Partners", "slug": mso.slug, "website": "",
                 **_inline_management(page)})  # fmt: skip
    response = client.post(reverse("admin:partners_mso_change", args=[mso.pk]), data,
                           REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6")  # fmt: skip
    assert response.status_code == 302, response.context["adminform"].form.errors
    entry = entries(MSO, LogEntry.Action.UPDATE).get()
    assert entry.actor == data_admin
    assert entry.changes["name"] == ["Larkspur Surgical Partners", "Larkspur Partners"]
    assert entry.timestamp is not None and entry.object_pk == str(mso.pk)
    assert entry.remote_addr == "10.0.0.2"  # no trusted proxy: the forged header is ignored


def _inline_management(page):
    data = {}
    for formset in page.context["inline_admin_formsets"]:
        prefix = formset.formset.prefix
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    return data


def test_every_kind_of_evidence_is_recorded_on_create_change_and_delete(data_admin):
    with audit_actor(data_admin):
        mso = make_mso()
        practice = make_practice()
        affiliation = affiliate(practice, mso)
        accreditation = Accreditation.objects.create(
            practice=practice, body="AAAHC", awarded_on=datetime.date(2020, 1, 1),
            expires_on=datetime.date(2030, 1, 1))  # fmt: skip
        designation = QualityDesignation.objects.create(
            practice=practice, name="Center of Excellence", awarded_by="A board",
            awarded_on=datetime.date(2021, 1, 1))  # fmt: skip
        interview = make_interview(mso)
        claim = Claim.objects.create(mso=mso, statement="We answer in a day.")
        benchmark = Benchmark.objects.first()
        benchmark.source = "Changed source"
        benchmark.save()
        for obj in (affiliation, accreditation, designation, interview, claim):
            obj.delete()
    for model in (MSO, Practice, Affiliation, Accreditation, QualityDesignation,
                  ReferenceInterview, Claim):  # fmt: skip
        assert entries(model, LogEntry.Action.CREATE).filter(actor=data_admin).count() == 1
    for model in (Affiliation, Accreditation, QualityDesignation, ReferenceInterview, Claim):
        assert entries(model, LogEntry.Action.DELETE).count() == 1
    assert entries(Benchmark, LogEntry.Action.UPDATE).get().changes["source"][1] == "Changed source"


def test_methodology_versions_and_their_publication_are_recorded(data_admin):
    with audit_actor(data_admin):
        draft = methodology_new_version(methodology=Methodology.objects.get(published=True))
        methodology_publish(methodology=draft)
    published = entries(Methodology, LogEntry.Action.UPDATE).get(object_pk=str(draft.pk))
    assert published.changes["published"] == ["False", "True"]
    assert entries(Methodology, LogEntry.Action.CREATE).filter(object_pk=str(draft.pk)).exists()


def test_a_role_given_and_taken_is_recorded_without_the_password(client, data_admin, surgeon):
    consultants = Group.objects.get(name=CONSULTANT)
    with audit_actor(data_admin):
        surgeon.groups.add(consultants)
        surgeon.groups.remove(consultants)
        surgeon.set_password("a-new-secret-passphrase")
        surgeon.save()
    found = entries(type(surgeon)).filter(object_pk=str(surgeon.pk), actor=data_admin)
    changes = [e.changes for e in found.order_by("pk")]
    assert {"groups": {"type": "m2m", "operation": "add", "objects": [CONSULTANT]}} in changes
    assert {"groups": {"type": "m2m", "operation": "delete", "objects": [CONSULTANT]}} in changes
    assert not any("password" in c for c in changes)


def test_a_survey_import_and_its_undo_are_one_entry_each_with_their_counts(
    client, data_admin, queued
):
    larkspur = make_mso()
    affiliate(make_practice("P-1"), larkspur)
    affiliate(make_practice("P-2"), larkspur)
    client.force_login(data_admin)
    file = io.BytesIO(GOOD)
    file.name = "survey.csv"
    client.post(reverse("survey_upload"), {"file": file, "source": "vendor"})
    preview = run_jobs(queued)
    client.post(reverse("survey_upload_job", args=[preview.pk]))
    run_jobs(queued)
    before = LogEntry.objects.count()
    created = entries(SurveyImport, LogEntry.Action.CREATE).get()
    assert created.actor == data_admin  # the job's worker acts for who started it
    assert created.changes["rows"] == ["None", "6"]
    assert created.changes["file_name"] == ["None", "survey.csv"]
    survey_import_undo(survey_import_id=SurveyImport.objects.get().pk)
    assert LogEntry.objects.count() == before + 1
    undone = entries(SurveyImport, LogEntry.Action.DELETE).get()
    assert undone.changes["responses_deleted"] == [None, "6"]
    assert undone.changes["comments_deleted"] == [None, "2"]


def test_a_large_import_is_still_one_entry():
    make_practice("P-1")
    rows = b"".join(b"P-1,2024-01-05,9\n" for _ in range(2000))
    before = LogEntry.objects.count()
    surveys_import(stream=io.BytesIO(b"practice,responded_on,score\n" + rows), file_name="a.csv")
    assert LogEntry.objects.count() == before + 1


def test_a_report_event_is_recorded(consultant):
    mso = make_mso()
    entry = audit_report(user=consultant, obj=mso, event="downloaded", format="pdf")
    assert entry.action == LogEntry.Action.ACCESS and entry.actor == consultant
    assert entry.changes == {"report": [None, "downloaded"]}
    assert entry.additional_data == {"format": "pdf"}


def test_nobody_changes_or_deletes_an_entry_in_the_admin(client, data_admin):
    make_mso()
    entry = entries(MSO).get()
    client.force_login(data_admin)
    assert client.get(reverse("admin:auditlog_logentry_changelist"),
                      {"action__exact": "0"}).status_code == 200  # fmt: skip
    change = reverse("admin:auditlog_logentry_change", args=[entry.pk])
    assert client.post(change, {"changes_text": "x"}).status_code == 403
    delete = reverse("admin:auditlog_logentry_delete", args=[entry.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).changes == entry.changes


def test_nobody_changes_or_deletes_an_entry_through_the_orm():
    make_mso()
    entry = LogEntry.objects.get()
    entry.changes_text = "rewritten"
    with pytest.raises(PermissionDenied), transaction.atomic():
        entry.save()
    with pytest.raises(PermissionDenied), transaction.atomic():
        entry.delete()
    with pytest.raises(PermissionDenied), transaction.atomic():
        LogEntry.objects.all().delete()
    assert LogEntry.objects.count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger")
def test_the_database_refuses_to_change_or_delete_an_entry(surgeon):
    with audit_actor(surgeon):
        make_mso()
    pk = entries(MSO).get().pk
    for sql in ("UPDATE auditlog_logentry SET changes_text = 'x' WHERE id = %s",
                "DELETE FROM auditlog_logentry WHERE id = %s"):  # fmt: skip
        with pytest.raises(DatabaseError, match="cannot be changed or deleted"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [pk])
    # Deleting a user keeps the entries of what the user did, without the user.
    surgeon.delete()
    assert LogEntry.objects.get(pk=pk).actor is None
