"""A worker killed mid-computation, concurrent computations, and failures shown to users.

The first two tests stop a real worker's computation at an exact point of
``scorecards.services.scorecard_compute`` through its test hook: a worker started with
``SCORECARDS_TEST_PAUSE_DIR`` set writes ``<point>-<pid>-<ns>.arrived`` in that directory on
reaching ``point``, then waits while ``<point>.hold`` exists. The points are ``writing`` (in
the write transaction, past the fingerprint check, nothing written yet) and
``snapshot_row_written`` (the snapshot's row written, its scorecards not yet; the file holds
the row's id).
"""

import io
import os
import signal
import sqlite3
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from partners.models import MSO, Job, JobStatus
from scorecards.models import Methodology, MsoScorecard, ScorecardSnapshot
from scorecards.services import COMPUTE_KIND, scorecards_request_recompute
from scorecards.tasks import scorecard_compute
from tests.conftest import start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

# Its own queue, so that the session's other worker never takes these tasks.
KILL_QUEUE = "kill-test"
PAUSE_ENV = "SCORECARDS_TEST_PAUSE_DIR"
WRITING = "writing"
ROW_WRITTEN = "snapshot_row_written"


class Pauses:
    """The test's side of ``scorecard_compute``'s pause hook."""

    def __init__(self, directory):
        self.directory = directory

    def hold(self, point):
        (self.directory / f"{point}.hold").touch()

    def release(self, point):
        (self.directory / f"{point}.hold").unlink(missing_ok=True)

    def release_all(self):
        for hold in self.directory.glob("*.hold"):
            hold.unlink(missing_ok=True)

    def arrivals(self, point):
        """[(pid, detail)] of the computations that reached ``point``, in order of arrival."""
        found = []
        for path in self.directory.glob(f"{point}-*.arrived"):
            pid, ns = path.stem.removeprefix(f"{point}-").split("-")
            found.append((int(ns), int(pid), path.read_text()))
        return [(pid, detail) for _ns, pid, detail in sorted(found)]


@pytest.fixture
def pauses(tmp_path):
    directory = tmp_path / "pauses"
    directory.mkdir()
    return Pauses(directory)


@pytest.fixture
def paused_worker(tmp_path, monkeypatch, pauses):
    """Starts a prefork worker on KILL_QUEUE whose computations obey ``pauses``; its tasks run
    in child processes, which a test can kill."""
    started = []

    def start(*, concurrency):
        with monkeypatch.context() as m:  # for the worker only, not for this process
            m.setenv(PAUSE_ENV, str(pauses.directory))
            proc = start_worker(tmp_path / f"worker-{len(started)}.log", "--pool=prefork",
                                f"--concurrency={concurrency}", "--queues", KILL_QUEUE)  # fmt: skip
        started.append(proc)
        return proc

    yield start
    pauses.release_all()  # a computation still paused by a failed test goes on and ends
    for proc in started:
        stop_worker(proc)


def _seed():
    call_command("seed_demo", scale="tiny", seed=3, stdout=io.StringIO())
    published = MSO.objects.filter(published=True).count()
    assert published >= 2
    return published


def _send(job):
    scorecard_compute.apply_async((job.pk,), queue=KILL_QUEUE)


def _new_job():
    return Job.objects.create(kind=COMPUTE_KIND, task=scorecard_compute.name)


def _finished(*jobs):
    def predicate():
        for job in jobs:
            job.refresh_from_db()
        return all(job.is_finished for job in jobs)

    return predicate


def _child_pids(pid):
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _snapshot_write_open():
    """Whether another connection is in a write transaction that wrote a snapshot row (on
    PostgreSQL), or holds the database's write lock (on SQLite, which has one writer)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "JOIN pg_stat_activity a ON a.pid = l.pid AND a.datname = current_database() "
                "WHERE c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.granted "
                "AND l.pid <> pg_backend_pid() AND a.state = 'idle in transaction'",
                [ScorecardSnapshot._meta.db_table],
            )
            return cursor.fetchone()[0] == 1
    probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def _snapshot_inserts_waiting():
    """How many other PostgreSQL sessions wait, in an INSERT of a snapshot row, for another
    transaction (the one that holds the same fingerprint, uncommitted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND query LIKE %s",
            [f'INSERT INTO "{ScorecardSnapshot._meta.db_table}"%'],
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_computation_leaves_no_half_snapshot_and_the_job_is_retried(
    paused_worker, pauses
):
    published = _seed()
    pauses.hold(ROW_WRITTEN)
    worker = paused_worker(concurrency=1)
    job = _new_job()
    _send(job)

    # The computation wrote its snapshot's row, in its transaction, and stopped there.
    wait_for(lambda: pauses.arrivals(ROW_WRITTEN), worker=worker)
    [(killed, row_id)] = pauses.arrivals(ROW_WRITTEN)
    assert int(row_id) > 0
    assert killed in _child_pids(worker.pid)
    assert _snapshot_write_open(), "the killed computation is not inside its write transaction"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (JobStatus.RUNNING, 1)
    os.kill(killed, signal.SIGKILL)

    # The message is redelivered (acks_late, reject_on_worker_lost) to a new child, which the
    # hold stops at the same point, its rows uncommitted: what the killed computation left
    # behind is all that can be seen now.
    def redelivered_or_finished():
        job.refresh_from_db()
        return len(pauses.arrivals(ROW_WRITTEN)) == 2 or job.is_finished

    wait_for(redelivered_or_finished, worker=worker)
    assert not ScorecardSnapshot.objects.exists(), "the killed computation left a snapshot"
    assert not MsoScorecard.objects.exists(), "the killed computation left scorecards"
    assert len(pauses.arrivals(ROW_WRITTEN)) == 2
    retry_pid = pauses.arrivals(ROW_WRITTEN)[1][0]
    assert retry_pid != killed

    pauses.release(ROW_WRITTEN)
    wait_for(_finished(job), worker=worker, timeout=90)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    snapshot = ScorecardSnapshot.objects.get()
    assert job.result == {"snapshot_id": snapshot.pk, "created": True}
    assert snapshot.job_id == job.pk
    assert MsoScorecard.objects.count() == snapshot.scorecards.count() == published
    assert "exited with 'signal 9 (SIGKILL)'" in worker.log_path.read_text()


def test_two_computations_at_once_give_one_snapshot(paused_worker, pauses):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite has a single writer: a computation's write transaction begins with BEGIN "
            "IMMEDIATE, so a second one waits for the first to commit and two are never "
            "inside their write transactions at once"
        )
    published = _seed()
    pauses.hold(WRITING)
    pauses.hold(ROW_WRITTEN)
    worker = paused_worker(concurrency=2)
    # A computation is running when another is asked for (at most one can wait queued),
    # on the same evidence; a second worker process takes it.
    jobs = [_new_job()]
    _send(jobs[0])
    wait_for(lambda: pauses.arrivals(WRITING), worker=worker)
    jobs.append(_new_job())
    _send(jobs[1])

    # Both passed the fingerprint check (no snapshot yet) and are in their write transaction.
    wait_for(lambda: len(pauses.arrivals(WRITING)) == 2, worker=worker)
    assert len({pid for pid, _ in pauses.arrivals(WRITING)}) == 2
    assert not ScorecardSnapshot.objects.exists()

    # Let them write: the first to insert holds its uncommitted row (paused after it); the
    # other's insert of the same fingerprint waits on the unique index for that transaction.
    pauses.release(WRITING)
    wait_for(lambda: pauses.arrivals(ROW_WRITTEN) and _snapshot_inserts_waiting() == 1,
             worker=worker)  # fmt: skip
    [(winner, row_id)] = pauses.arrivals(ROW_WRITTEN)

    # The first commits; the other's insert fails on the unique fingerprint, and it returns
    # the first one's snapshot instead.
    pauses.release(ROW_WRITTEN)
    wait_for(_finished(*jobs), worker=worker, timeout=90)
    for job in jobs:
        assert job.status == JobStatus.SUCCEEDED, job.error
    assert [pid for pid, _ in pauses.arrivals(ROW_WRITTEN)] == [winner]  # the other wrote none
    snapshot = ScorecardSnapshot.objects.get()
    assert snapshot.pk == int(row_id)
    assert [job.result["snapshot_id"] for job in jobs] == [snapshot.pk, snapshot.pk]
    assert sorted(job.result["created"] for job in jobs) == [False, True]
    assert snapshot.job_id in {job.pk for job in jobs}
    assert snapshot.scorecards.count() == MsoScorecard.objects.count() == published


def test_a_failing_computation_is_visible_with_its_error(celery_worker, client, data_admin):
    Methodology.objects.update(published=False)
    job = scorecards_request_recompute(countdown=0)

    wait_for(_finished(job), worker=celery_worker)
    assert job.status == JobStatus.FAILED
    assert job.error == "No methodology is published; publish one first."
    client.force_login(data_admin)
    page = client.get("/scorecards/").content.decode()
    assert "failed: No methodology is published; publish one first." in page
