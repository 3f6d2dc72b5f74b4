"""Jobs on a real Celery worker through the configured broker (Redis under CI): how they run,
fail, are swept, and never get lost."""

import datetime
import io
import time

import pytest
from celery import current_app
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from partners import jobs
from partners.jobs import MAX_ATTEMPTS, job_enqueue, job_run
from partners.models import Job, JobStatus, SurveyImport
from partners.tasks import survey_check, survey_undo
from partners.uploads import upload_stage_file
from scorecards.services import COMPUTE_KIND, scorecards_request_recompute

from .conftest import start_worker, stop_worker, wait_for
from .partners.factories import affiliate, make_mso, make_practice

pytestmark = [pytest.mark.django_db(transaction=True)]

CSV = b"practice,responded_on,score,response_id\nW-1,2024-03-01,10,a\nW-1,2024-03-02,4,b\n"


def _finished(job):
    job.refresh_from_db()
    return job.is_finished


def _check_job(data=CSV):
    file = io.BytesIO(data)
    payload = {"upload": upload_stage_file(fileobj=file, file_name="w.csv"), "file_name": "w.csv",
               "source": "Worker test"}  # fmt: skip
    return job_enqueue(task=survey_check, kind="survey_preview", payload=payload)


@pytest.fixture
def practice(transactional_db):
    practice = make_practice("W-1")
    affiliate(practice, make_mso())
    return practice


@pytest.mark.worker
def test_worker_runs_a_job_and_records_success(celery_worker, practice):
    job = _check_job()
    assert job.status == JobStatus.QUEUED
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.progress == 100
    assert job.attempts == 1 and job.sends == 1
    assert job.started_at and job.finished_at >= job.started_at
    assert job.result["rows"] == 2 and job.result["promoters"] == 1
    assert not SurveyImport.objects.exists()  # a check writes nothing


@pytest.mark.worker
def test_worker_records_a_refused_job_with_its_reason(celery_worker, practice):
    job = _check_job(b"practice,score\nW-1,10\n")
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.FAILED
    assert "line 1: missing column responded_on" in job.error
    assert job.result["errors"][0]["line"] == 1


def _received(worker):
    return worker.log_path.read_text().count(" received")


@pytest.mark.worker
def test_a_job_is_sent_only_when_its_transaction_commits(celery_worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        job_enqueue(task=survey_undo, kind="survey_undo", payload={"imports": []})
        raise RuntimeError("rolled back")
    assert Job.objects.count() == 0
    before = _received(celery_worker)
    with transaction.atomic():
        job = job_enqueue(task=survey_undo, kind="survey_undo", payload={"imports": []})
        # A task sent now would reach the worker well within this time, find no job (its
        # row is not committed) and be dropped: the job would never run.
        time.sleep(1.5)
        assert _received(celery_worker) == before, "the task was sent before the commit"
    wait_for(lambda: _finished(job), worker=celery_worker)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert _received(celery_worker) == before + 1  # the rolled-back job was never sent


def test_a_job_whose_worker_died_too_often_is_failed_not_rerun():
    job = Job.objects.create(kind="survey_undo", payload={"imports": []},
                             status=JobStatus.RUNNING, attempts=MAX_ATTEMPTS)  # fmt: skip
    ran = []
    job_run(job_id=job.pk, work=ran.append)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.error == "The worker stopped 3 times while running this job."
    assert ran == []


def test_a_message_for_a_deleted_job_is_dropped():
    assert job_run(job_id=987654, work=lambda job: {}) is None


def test_a_message_older_than_the_jobs_latest_send_is_dropped():
    job = Job.objects.create(kind="survey_undo", task_id="latest")
    ran = []
    job_run(job_id=job.pk, work=ran.append, message_id="earlier")
    assert ran == [] and Job.objects.get(pk=job.pk).status == JobStatus.QUEUED
    job_run(job_id=job.pk, work=ran.append, message_id="latest")
    assert ran == [job] and Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


# --- Lost jobs -------------------------------------------------------------------------------


@pytest.fixture
def broker_down(settings):
    """The broker's address points at a closed port: every send fails as with Redis down."""
    app = current_app._get_current_object()
    saved = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app.conf.broker_connection_timeout = 1
    app.close()
    app.amqp._producer_pool = None
    yield
    app.conf.broker_url = saved
    app.close()
    app.amqp._producer_pool = None


def test_recompute_now_with_the_broker_unreachable_fails_the_job_and_says_so(
    client, data_admin, broker_down
):
    client.force_login(data_admin)
    response = client.post(reverse("scorecard_recompute"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = Job.objects.get(kind=COMPUTE_KIND)
    assert job.status == JobStatus.FAILED
    assert job.error == jobs.QUEUE_UNREACHABLE
    assert "The job queue is not reachable; try again shortly." in response.content.decode()
    # The failed job is never joined: the next request queues a new one.
    assert scorecards_request_recompute().pk != job.pk


def test_an_upload_with_the_broker_unreachable_fails_its_job_visibly(
    client, data_admin, broker_down
):
    file = io.BytesIO(CSV)
    file.name = "march.csv"
    client.force_login(data_admin)
    response = client.post(reverse("survey_upload"), {"file": file, "source": "Vendor"})
    job = Job.objects.get()
    assert response["Location"] == reverse("survey_upload_job", args=[job.pk])
    assert job.status == JobStatus.FAILED and job.error == jobs.QUEUE_UNREACHABLE
    page = client.get(response["Location"]).content.decode()
    assert jobs.QUEUE_UNREACHABLE in page and "Waiting for a worker" not in page


def _sent(monkeypatch):
    sent = []
    monkeypatch.setattr(
        "partners.tasks.survey_undo.apply_async",
        lambda args, task_id=None, **options: sent.append((args[0], task_id)),
    )
    return sent


def test_the_sweep_sends_a_job_no_worker_started_once_more_then_fails_it(settings, monkeypatch):
    settings.JOBS_START_TIMEOUT = 60
    sent = _sent(monkeypatch)
    job = job_enqueue(task=survey_undo, kind="survey_undo", payload={"imports": []})
    assert [pk for pk, _ in sent] == [job.pk]
    assert jobs.jobs_sweep() == {"resent": 0, "failed": 0}  # not late yet
    long_ago = timezone.now() - datetime.timedelta(seconds=61)
    Job.objects.filter(pk=job.pk).update(due_at=long_ago)
    assert jobs.jobs_sweep() == {"resent": 1, "failed": 0}
    job.refresh_from_db()
    assert job.sends == 2 and job.status == JobStatus.QUEUED
    assert sent[1] == (job.pk, job.task_id) and sent[1][1] != sent[0][1]  # a new message id
    Job.objects.filter(pk=job.pk).update(due_at=long_ago)
    assert jobs.jobs_sweep() == {"resent": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.error == jobs.NOT_STARTED
    assert len(sent) == 2


def test_jobs_left_running_by_a_dead_worker_are_failed_by_the_sweep():
    long_ago = timezone.now() - datetime.timedelta(hours=2)
    stale = Job.objects.create(kind="survey_undo", status=JobStatus.RUNNING, started_at=long_ago)
    fresh = Job.objects.create(kind="survey_undo", status=JobStatus.RUNNING,
                               started_at=timezone.now())  # fmt: skip
    assert jobs.jobs_sweep() == {"resent": 0, "failed": 1}
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == JobStatus.FAILED and stale.error == jobs.WORKER_LOST
    assert fresh.status == JobStatus.RUNNING


def test_the_debounce_never_joins_an_orphaned_computation(settings, monkeypatch):
    settings.JOBS_START_TIMEOUT = 60
    monkeypatch.setattr("scorecards.tasks.scorecard_compute.apply_async", lambda *a, **k: None)
    orphan = scorecards_request_recompute()
    assert scorecards_request_recompute().pk == orphan.pk  # a healthy one is joined
    Job.objects.filter(pk=orphan.pk).update(due_at=timezone.now() - datetime.timedelta(hours=1))
    job = scorecards_request_recompute()
    assert job.pk != orphan.pk and job.status == JobStatus.QUEUED
    orphan.refresh_from_db()
    assert orphan.status == JobStatus.FAILED and orphan.error == jobs.NOT_STARTED


@pytest.mark.worker
def test_the_workers_beat_sweeps_jobs_no_worker_started(tmp_path, monkeypatch):
    monkeypatch.setenv("JOBS_SWEEP_EVERY", "1")
    monkeypatch.setenv("JOBS_START_TIMEOUT", "1")
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    # Never sent (its web process died before the commit hook ran): the sweep sends it.
    lost = Job.objects.create(kind="survey_undo", task=survey_undo.name,
                              payload={"imports": []})  # fmt: skip
    Job.objects.filter(pk=lost.pk).update(created_at=long_ago)
    # Sent twice already and still not started: the sweep fails it.
    hopeless = Job.objects.create(kind="survey_undo", task=survey_undo.name, sends=2,
                                  sent_at=long_ago, due_at=long_ago)  # fmt: skip
    worker = start_worker(tmp_path / "worker.log", "--pool=solo", "--beat",
                          "--schedule", str(tmp_path / "beat-schedule"))  # fmt: skip
    try:
        wait_for(lambda: _finished(lost) and _finished(hopeless), worker=worker, timeout=60)
    finally:
        stop_worker(worker)
    assert lost.status == JobStatus.SUCCEEDED, lost.error
    assert hopeless.status == JobStatus.FAILED and hopeless.error == jobs.NOT_STARTED


def test_the_computation_is_queued_by_the_name_of_a_registered_task():
    from scorecards import tasks
    from scorecards.services import COMPUTE_TASK

    assert current_app.tasks[COMPUTE_TASK] is tasks.scorecard_compute._get_current_object()
