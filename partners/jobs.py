"""The life of a background job, from its row to how it ended.

A job's row is written first; its Celery task is sent once the transaction commits and gets
only the job's id. Each job kind is one task in its app's ``tasks.py``, which calls
``job_run`` with the one service that does the work::

    queued --(a worker starts it)--> running --> succeeded | failed

A job can also fail without running, so that nobody waits for ever on a job that nothing will
run:

- the broker refused the message: failed at once with ``QUEUE_UNREACHABLE``;
- no worker started it within ``JOBS_START_TIMEOUT`` seconds after it was due: the sweep sends
  it again once, then fails it with ``NOT_STARTED``;
- still running long after the task's time limit (its worker died as a whole): failed with
  ``WORKER_LOST`` by the sweep.

A job sent again gets a new message id; a message whose id is not the job's latest is dropped,
so that a job sent twice (by the sweep, or by "Recompute now") runs once.
"""

import datetime
import logging
import time
import uuid
from dataclasses import asdict

from celery import current_app
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from kombu.exceptions import OperationalError

from .audit import audit_actor
from .csvfiles import ImportRefused
from .models import Job, JobStatus
from .roles import DATA_ADMIN, user_has_role

logger = logging.getLogger(__name__)

QUEUE_UNREACHABLE = "The job queue is not reachable; try again shortly."
NOT_STARTED = (
    "No worker started this job in time; try again shortly. If this happens again, the "
    "background worker is not running: tell your administrator."
)
WORKER_LOST = "The worker running this job stopped before it finished; please try again."
TOO_LONG = "The job took too long and was stopped."
PAST_TIME_LIMIT = "The job was stopped after {limit}, its time limit."
MAX_ATTEMPTS = 3  # runs begun (the first and redeliveries after a lost worker)
MAX_SENDS = 2  # the first send and one more by the sweep


class JobError(Exception):
    """An expected failure of a job: its message is what the user sees."""


def job_enqueue(*, task, kind, payload=None, user=None, countdown=0):
    """Create the job's row and send ``task`` (a task, or its name) with its id once the
    transaction commits.

    ``payload`` is the job's input; it must never hold a patient comment."""
    name = getattr(task, "name", task)
    job = Job.objects.create(kind=kind, task=name, payload=payload or {}, created_by=user)
    send_after_commit(job, countdown=countdown)
    return job


def send_after_commit(job, *, countdown=0):
    transaction.on_commit(lambda: job_send(job=job, countdown=countdown))


def job_send(*, job, countdown=0):
    """Send the job's task now (to start after ``countdown`` seconds); return whether the
    broker took it. If it did not, the job is failed with a message that says so, and ``job``
    shows it too."""
    message_id = str(uuid.uuid4())
    now = timezone.now()
    due = now + datetime.timedelta(seconds=countdown)
    # Written before sending: a fast worker must find the id of the message it runs.
    Job.objects.filter(pk=job.pk).update(
        task_id=message_id, sent_at=now, due_at=due, sends=F("sends") + 1
    )
    job.task_id, job.sent_at, job.due_at = message_id, now, due
    try:
        current_app.tasks[job.task].apply_async(
            (job.pk,), task_id=message_id, countdown=countdown or None,
            retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
        )  # fmt: skip
    except (OperationalError, OSError) as exc:
        logger.warning("job %s could not be queued: %s", job.pk, exc)
        job_fail(job, QUEUE_UNREACHABLE)
        return False
    return True


def job_fail(job, error):
    """Fail a job that has not finished; ``job`` shows the outcome."""
    now = timezone.now()
    Job.objects.filter(pk=job.pk).exclude(
        status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED]
    ).update(status=JobStatus.FAILED, error=error, finished_at=now)
    job.refresh_from_db(fields=["status", "error", "finished_at"])


def job_progress(job, *, percent, message=""):
    Job.objects.filter(pk=job.pk).update(progress=percent, message=message[:300])


def orphaned_q(now=None):
    """Queued jobs that no worker started in time after they were due (or that were never
    sent at all)."""
    limit = (now or timezone.now()) - datetime.timedelta(seconds=settings.JOBS_START_TIMEOUT)
    return Q(status=JobStatus.QUEUED) & (
        Q(due_at__lt=limit) | Q(sent_at__isnull=True, created_at__lt=limit)
    )


def jobs_sweep():
    """Send again, once, the queued jobs no worker started in time, and fail those already
    sent again or still running long after any worker would have stopped them. Run every
    minute by the worker's beat, and by the pages that follow a job. Returns
    ``{"resent": n, "failed": n}``."""
    now = timezone.now()
    running_limit = now - datetime.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    failed = Job.objects.filter(status=JobStatus.RUNNING, started_at__lt=running_limit).update(
        status=JobStatus.FAILED, finished_at=now, error=WORKER_LOST
    )
    orphans = Job.objects.filter(orphaned_q(now))
    failed += orphans.filter(Q(sends__gte=MAX_SENDS) | Q(task="")).update(
        status=JobStatus.FAILED, finished_at=now, error=NOT_STARTED
    )
    resent = 0
    for job in orphans.filter(sends__lt=MAX_SENDS).exclude(task=""):
        logger.warning("job %s was not started in time; sending it again", job.pk)
        resent += job_send(job=job)
    return {"resent": resent, "failed": failed}


def job_followed(job):
    """For a page that follows a job: an unfinished one is swept first (a page may be the
    first to notice that no worker took it) and read again."""
    if not job.is_finished:
        jobs_sweep()
        job.refresh_from_db()
    return job


def time_limits(seconds):
    """A task's soft time limit and, a grace period later, its hard one (which kills it)."""
    return {"soft_time_limit": seconds, "time_limit": seconds + settings.JOB_KILL_GRACE}


def _soft_time_limit(task):
    """The soft time limit (seconds) the running ``task`` was given: its message's, else its
    own, as the worker applies them."""
    _hard, soft = task.request.timelimit or (None, None)
    return soft or task.soft_time_limit


def job_run_in_task(task, job_id, work):
    """``job_run`` from the bound Celery ``task`` running the job: with its message's id, and
    the soft time limit it was given, which the job's message names if it passes it."""
    return job_run(job_id=job_id, work=work, message_id=task.request.id,
                   time_limit=_soft_time_limit(task))  # fmt: skip


def _duration(seconds):
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds // 60:g} minutes"
    return f"{seconds:g} second{'' if seconds == 1 else 's'}"


def _refusal_lines(exc):
    if hasattr(exc, "report_lines"):
        return exc.report_lines()  # with "... and N more errors." when some were left out
    return [str(e) for e in exc.errors]


def job_run(*, job_id, work, message_id=None, time_limit=None):
    """Run ``work(job)`` for one job and record how it ended; return the job.

    ``work`` returns the job's result (a JSON-able dict). A refused file fails the job with
    its errors, as text in ``error`` and as ``{"errors": [{"line", "column", "message"}],
    "error_count"}`` in ``result``; a JobError fails it with its message; passing the task's
    soft ``time_limit`` (seconds) fails it with a message naming the limit.
    """
    from celery.exceptions import SoftTimeLimitExceeded

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        logger.warning("job %s no longer exists; its message is dropped", job_id)
        return None
    if job.is_finished:
        return job  # delivered twice (e.g. redelivered after a restart): done already
    if message_id and job.task_id and message_id != job.task_id:
        logger.info("job %s was sent again since message %s; dropped", job.pk, message_id)
        return job
    if job.status == JobStatus.RUNNING and job.attempts >= MAX_ATTEMPTS:
        # Redelivered after its worker died MAX_ATTEMPTS times: give up rather than loop.
        job_fail(job, f"The worker stopped {job.attempts} times while running this job.")
        return job
    job.status, job.started_at, job.attempts = JobStatus.RUNNING, timezone.now(), job.attempts + 1
    job.save(update_fields=["status", "started_at", "attempts"])
    try:
        with audit_actor(job.created_by):  # the audit trail names who started the job
            job.result = work(job) or {}
    except ImportRefused as exc:
        job.status, job.error = JobStatus.FAILED, "\n".join(_refusal_lines(exc))
        job.result = {
            "errors": [asdict(error) for error in exc.errors],
            "error_count": getattr(exc, "error_count", len(exc.errors)),
        }
    except JobError as exc:
        job.status, job.error = JobStatus.FAILED, str(exc)
    except SoftTimeLimitExceeded:
        logger.warning("job %s passed its time limit of %s s", job.pk, time_limit)
        job.status, job.error = JobStatus.FAILED, (
            PAST_TIME_LIMIT.format(limit=_duration(time_limit)) if time_limit else TOO_LONG)
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        job.status, job.error = JobStatus.FAILED, f"Unexpected error: {exc.__class__.__name__}"
    else:
        job.status, job.progress = JobStatus.SUCCEEDED, 100
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "progress", "error", "result", "finished_at"])
    return job


class JobProgress:
    """Records a job's progress: first the share of ``total`` bytes read, up to ``read_share``
    percent, then the stages of the work that follows the reading (see ``stage``).

    Reading writes at most every 2 points or every half second, so a gigabyte file costs a few
    dozen small updates. The survey import reads its file before its transaction begins, so
    each of these writes is seen at once.
    """

    def __init__(self, job_id, *, total, read_share=99, clock=time.monotonic):
        self.job_id, self.total, self.clock = job_id, max(total, 1), clock
        self.read_share = read_share
        self.percent, self.written_at = 0, clock()

    def __call__(self, done):
        percent = min(self.read_share, round(done * self.read_share / self.total))
        now = self.clock()
        if percent <= self.percent:
            return
        if percent - self.percent < 2 and now - self.written_at < 0.5:
            return
        self.percent, self.written_at = percent, now
        Job.objects.filter(pk=self.job_id).update(progress=percent)

    def stage(self, message, percent_after_reading):
        """A stage of the work after the reading begins, while the import's transaction is
        open: written through a connection of its own, so that the page sees it at once.
        SQLite allows one writer at a time, so there the stages are not shown (the reading
        then counts up to 99%)."""
        if connection.vendor != "postgresql":
            return
        percent = self.read_share + (99 - self.read_share) * percent_after_reading // 100
        self.percent = max(self.percent, percent)
        own = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            with own.cursor() as cursor:
                cursor.execute(
                    "UPDATE partners_job SET progress = %s, message = %s WHERE id = %s",
                    [self.percent, message[:300], self.job_id],
                )
        finally:
            own.close()

    @staticmethod
    def read_share_for(*, dry_run):
        """How much of the bar the reading fills: where the stages after it are shown (only on
        PostgreSQL), the reading is most of a check and two fifths of an import."""
        if connection.vendor != "postgresql":
            return 99
        return 70 if dry_run else 40


def job_for_user(job, user):
    """A job's status page is for whoever started the job and for data admins; to anybody
    else the job does not exist (404)."""
    if job.created_by_id == user.pk or user_has_role(user, DATA_ADMIN):
        return job
    raise Http404("No such job.")
