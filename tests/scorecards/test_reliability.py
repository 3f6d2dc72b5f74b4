"""A worker killed mid-computation, concurrent triggers, and failures shown to users."""

import io
import os
import signal
import sqlite3
import subprocess

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from partners.models import Job, JobStatus
from scorecards.models import Methodology, MsoScorecard, ScorecardSnapshot
from scorecards.services import scorecard_compute, scorecards_request_recompute
from tests.conftest import database_url_for_tests, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


# Its own queue, so that the session's other worker never takes the task.
KILL_QUEUE = "kill-test"


@pytest.fixture
def prefork_worker(tmp_path):
    """A worker whose task runs in a child process, which the test can kill."""
    proc = start_worker(tmp_path / "worker.log", "--pool=prefork", "--concurrency=1",
                        "--queues", KILL_QUEUE)  # fmt: skip
    yield proc
    stop_worker(proc)


class WriteBlocker:
    """Holds a lock in another connection so that the worker's snapshot writes wait."""

    def __enter__(self):
        conf = connection.settings_dict
        if connection.vendor == "postgresql":
            self.conn = psycopg.connect(database_url_for_tests())
            self.conn.execute("LOCK TABLE scorecards_msoscorecard IN ACCESS EXCLUSIVE MODE")
        else:
            self.conn = sqlite3.connect(conf["NAME"], isolation_level=None)
            self.conn.execute("BEGIN IMMEDIATE")
        return self

    def release(self):
        if self.conn:
            self.conn.rollback() if connection.vendor == "postgresql" else self.conn.execute(
                "ROLLBACK"
            )
            self.conn.close()
            self.conn = None

    def __exit__(self, *exc):
        self.release()


def _child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_worker_killed_mid_computation_leaves_no_half_snapshot_and_the_job_is_retried(
    prefork_worker,
):
    from partners.tasks import job_run

    call_command("seed_demo", scale="tiny", seed=3, stdout=io.StringIO())
    job = Job.objects.create(kind="compute_scorecards")
    postgres = connection.vendor == "postgresql"
    with WriteBlocker() as blocker:
        job_run.apply_async((job.pk,), queue=KILL_QUEUE)
        if postgres:
            # Only the scorecard table is locked: the worker gets as far as saving.
            def stuck():
                job.refresh_from_db()
                return job.status == JobStatus.RUNNING and job.progress >= 80
        else:
            # SQLite locks the whole file: the worker waits at its first write.
            def stuck():
                return "received" in prefork_worker.log_path.read_text()

        wait_for(stuck, worker=prefork_worker)
        children = _child_pids(prefork_worker.pid)
        assert children, "the pool has no child process"
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        blocker.release()

        def finished():
            job.refresh_from_db()
            return job.is_finished

        wait_for(finished, worker=prefork_worker, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == (2 if postgres else 1)
    snapshot = ScorecardSnapshot.objects.get()
    assert MsoScorecard.objects.count() == snapshot.scorecards.count() == 5
    assert "exited with 'signal 9 (SIGKILL)'" in prefork_worker.log_path.read_text()


def test_two_computations_at_once_give_one_snapshot(celery_worker):
    call_command("seed_demo", scale="tiny", seed=3, stdout=io.StringIO())
    jobs = [Job.objects.create(kind="compute_scorecards", status=JobStatus.RUNNING)
            for _ in range(2)]  # fmt: skip
    from partners.tasks import job_run

    # Both start now, in the worker and here, on the same evidence.
    job_run.apply_async((jobs[0].pk,))
    snapshot, created = scorecard_compute()

    def finished():
        jobs[0].refresh_from_db()
        return jobs[0].is_finished

    wait_for(finished, worker=celery_worker)
    assert jobs[0].status == JobStatus.SUCCEEDED, jobs[0].error
    assert ScorecardSnapshot.objects.count() == 1
    assert jobs[0].result["snapshot_id"] == snapshot.pk


def test_a_failing_computation_is_visible_with_its_error(celery_worker, client, data_admin):
    Methodology.objects.update(published=False)
    job = scorecards_request_recompute(countdown=0)

    def finished():
        job.refresh_from_db()
        return job.is_finished

    wait_for(finished, worker=celery_worker)
    assert job.status == JobStatus.FAILED
    assert job.error == "No methodology is published; publish one first."
    client.force_login(data_admin)
    page = client.get("/scorecards/").content.decode()
    assert "failed: No methodology is published; publish one first." in page
