"""A real Celery worker process runs jobs through the configured broker (Redis under CI)."""

import pytest

from partners.models import Job, JobStatus, Practice
from partners.services import job_enqueue

from .conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

CSV = (
    "mso,practice_code,practice_name,city,state,affiliated_since\n"
    "Larkspur Surgical Partners,W-1,Worker Test Oral Surgery,Dayton,OH,2021-04-01\n"
)


def _finished(job):
    job.refresh_from_db()
    return job.is_finished


def test_worker_runs_a_job_and_records_success(celery_worker, data_admin):
    job = job_enqueue(kind="import_practices", payload={"csv": CSV}, user=data_admin)
    assert job.status == JobStatus.QUEUED
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 100
    assert job.attempts == 1
    assert job.started_at and job.finished_at >= job.started_at
    assert job.result["summary"].startswith("1 MSOs created, 1 practices created")
    assert Practice.objects.get(code="W-1").affiliations.get().mso.name == (
        "Larkspur Surgical Partners"
    )


def test_worker_records_a_refused_job_with_its_reason(celery_worker):
    job = job_enqueue(kind="import_practices", payload={"csv": "mso,practice_code\nA,B\n"})
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.FAILED
    assert "line 1: missing columns practice_name, city, state, affiliated_since" in job.error
    assert Practice.objects.count() == 0


def test_a_job_is_queued_only_when_its_transaction_commits(celery_worker):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue(kind="import_practices", payload={"csv": CSV})
        raise RuntimeError("rolled back")
    assert Job.objects.count() == 0
    # The worker never sees a task for the rolled-back job: the next job runs alone.
    job = job_enqueue(kind="import_practices", payload={"csv": CSV})
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert Job.objects.count() == 1
    assert "Unexpected error" not in job.error


def test_a_job_whose_worker_died_too_often_is_failed_not_rerun(transactional_db):
    from partners.services import MAX_ATTEMPTS, job_execute

    job = Job.objects.create(kind="import_practices", payload={"csv": CSV},
                             status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS)  # fmt: skip
    job_execute(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "The worker stopped 3 times while running this job."
    assert not Practice.objects.exists()


def test_jobs_left_running_by_a_dead_worker_are_marked_failed(transactional_db):
    import datetime

    from django.utils import timezone

    from partners.services import jobs_fail_stale

    long_ago = timezone.now() - datetime.timedelta(hours=2)
    stale = Job.objects.create(kind="import_practices", status=JobStatus.RUNNING,
                               started_at=long_ago)  # fmt: skip
    fresh = Job.objects.create(kind="import_practices", status=JobStatus.RUNNING,
                               started_at=timezone.now())  # fmt: skip
    assert jobs_fail_stale() == 1
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == JobStatus.FAILED and "stopped before it finished" in stale.error
    assert fresh.status == JobStatus.RUNNING


def test_a_message_for_a_deleted_job_is_dropped(transactional_db):
    from partners.services import job_execute

    assert job_execute(job_id=987654) is None
