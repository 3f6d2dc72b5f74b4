"""Reports on real Celery workers through the configured broker (Redis under CI): end to end,
on their own queue beside the scorecard snapshots, and a worker killed mid-render."""

import io
import os
import signal
import subprocess

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from partners.models import Job, JobStatus
from scorecards.models import MsoScorecard, Report
from scorecards.reports.services import report_create, too_long_message
from scorecards.services import COMPUTE_KIND, scorecard_compute, scorecards_request_recompute
from scorecards.tasks import report_render
from tests.conftest import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

# For the tests that start their own worker: a queue no session worker consumes.
OWN_QUEUE = "reports-kill-test"


@pytest.fixture
def snapshot(transactional_db, settings):
    call_command("seed_demo", scale="tiny", seed=3, stdout=io.StringIO())
    snapshot, _ = scorecard_compute()
    return snapshot


def _report(user, snapshot, client="Worker Client"):
    slugs = list(MsoScorecard.objects.filter(snapshot=snapshot).order_by("mso__name")
                 .values_list("mso__slug", flat=True)[:2])  # fmt: skip
    return report_create(user=user, client_name=client, snapshot=snapshot, slugs=slugs,
                         weights=snapshot.methodology.weights())  # fmt: skip


def _finished(*jobs):
    def predicate():
        for job in jobs:
            job.refresh_from_db()
        return all(job.is_finished for job in jobs)

    return predicate


def test_a_report_worker_renders_the_pdf_end_to_end(reports_worker, consultant, snapshot):
    report = _report(consultant, snapshot)
    wait_for(_finished(report.job), worker=reports_worker, timeout=90)
    assert report.job.status == JobStatus.SUCCEEDED, report.job.error
    report.refresh_from_db()
    with report.file.open("rb") as f:
        assert "Worker Client" in PdfReader(f).pages[0].extract_text()
    assert report.job.progress == 100 and report.job.attempts == 1
    assert "scorecards.tasks.report_render" in reports_worker.log_path.read_text()


def test_a_burst_of_reports_does_not_delay_a_snapshot(celery_worker, reports_worker, consultant,
                                                      snapshot):  # fmt: skip
    # New evidence first, so that the snapshot has work to do; then the burst, then the snapshot.
    call_command("seed_demo", scale="tiny", seed=3, responses=1, stdout=io.StringIO())
    reports = [_report(consultant, snapshot, client=f"Client {i}") for i in range(10)]
    compute = scorecards_request_recompute(countdown=0)
    wait_for(_finished(compute), worker=celery_worker, timeout=90)
    assert compute.status == JobStatus.SUCCEEDED, compute.error
    # The snapshot started while most reports still waited for the one report worker (on a
    # shared queue it would start after all 10).
    done = Job.objects.filter(pk__in=[r.job_id for r in reports], status=JobStatus.SUCCEEDED,
                              finished_at__lte=compute.started_at).count()  # fmt: skip
    assert done < 5, f"the snapshot waited for {done} reports"
    wait_for(_finished(*[r.job for r in reports]), worker=reports_worker, timeout=240)
    assert {r.job.status for r in reports} == {JobStatus.SUCCEEDED}
    assert Job.objects.get(pk=compute.pk).kind == COMPUTE_KIND


def _child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.fixture
def slow_worker(tmp_path, monkeypatch):
    """A prefork worker on OWN_QUEUE whose renders wait ``delay`` seconds first."""
    started = []

    def start(*, delay, **env):
        with monkeypatch.context() as m:
            m.setenv("REPORTS_TEST_RENDER_DELAY", str(delay))
            for key, value in env.items():
                m.setenv(key, str(value))
            proc = start_worker(tmp_path / f"worker-{len(started)}.log", "--pool=prefork",
                                "--concurrency=1", "--queues", OWN_QUEUE)  # fmt: skip
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_worker(proc)


def _send_to_own_queue(report, **limits):
    Job.objects.filter(pk=report.job_id).update(task_id="")  # any message id is the job's
    report_render.apply_async((report.job_id,), queue=OWN_QUEUE, **limits)


def _new_report(user, snapshot, monkeypatch):
    monkeypatch.setattr("partners.jobs.send_after_commit", lambda job, countdown=0: None)
    return _report(user, snapshot)


def test_a_worker_killed_mid_render_completes_the_report_after_redelivery(
    slow_worker, consultant, snapshot, monkeypatch
):
    report = _new_report(consultant, snapshot, monkeypatch)
    worker = slow_worker(delay=3)
    _send_to_own_queue(report)

    def running():
        report.job.refresh_from_db()
        return report.job.status == JobStatus.RUNNING and _child_pids(worker.pid)

    wait_for(running, worker=worker)
    [child] = _child_pids(worker.pid)
    os.kill(child, signal.SIGKILL)
    wait_for(_finished(report.job), worker=worker, timeout=90)
    assert report.job.status == JobStatus.SUCCEEDED, report.job.error
    assert report.job.attempts == 2
    assert Report.objects.get(pk=report.pk).pages > 0
    assert "exited with 'signal 9 (SIGKILL)'" in worker.log_path.read_text()


def test_past_the_hard_time_limit_a_real_worker_fails_the_report_with_the_reason(
    slow_worker, consultant, snapshot, monkeypatch
):
    report = _new_report(consultant, snapshot, monkeypatch)
    # A soft limit above the hard one is never reached: the render is killed at 2 s.
    worker = slow_worker(delay=20, REPORTS_TIME_LIMIT=2, REPORTS_SOFT_TIME_LIMIT=10)
    # The sender writes the task's limits into the message (web and workers share settings).
    _send_to_own_queue(report, time_limit=2, soft_time_limit=10)
    wait_for(_finished(report.job), worker=worker, timeout=60)
    assert report.job.status == JobStatus.FAILED
    assert report.job.error == "The report took longer than 10 seconds to render and was " \
        "stopped. Try again with fewer MSOs or sections."  # fmt: skip
    assert "Hard time limit (2" in worker.log_path.read_text()
    assert too_long_message()  # the same wording as the soft limit's
