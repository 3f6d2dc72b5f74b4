"""Computing scorecard snapshots: the evidence is read (``selectors.gather_evidence``), scored
by the pure document building (``documents.score_evidence``) and stored in one transaction;
recompute requests and their jobs; methodology versions."""

import logging
import os
import time
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from partners import jobs
from partners.jobs import JobError
from partners.models import (
    Job,
    JobStatus,
)
from partners.roles import DATA_ADMIN, user_has_role

from .documents import fingerprint, score_evidence
from .models import SUMMARY_KEYS, Methodology, MsoScorecard, ScorecardSnapshot
from .selectors import gather_evidence

logger = logging.getLogger(__name__)


class NoPublishedMethodology(JobError):
    pass


class QueryCounter:
    """Counts the queries run inside ``connection.execute_wrapper(counter)``."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def current_methodology():
    methodology = (
        Methodology.objects.filter(published=True).prefetch_related("criteria")
        .order_by("-published_at", "-version").first()
    )  # fmt: skip
    if methodology is None:
        raise NoPublishedMethodology("No methodology is published; publish one first.")
    return methodology





def _test_pause(point, detail=""):
    """A hook for tests/scorecards/test_reliability.py only, inert unless the environment
    variable SCORECARDS_TEST_PAUSE_DIR names a directory (that test sets it for the worker it
    starts). Reaching ``point`` writes ``<point>-<pid>-<ns>.arrived`` there (holding
    ``detail``), then waits, at most a minute, while ``<point>.hold`` exists: the test can kill
    this process, or run another computation alongside, right there."""
    directory = os.environ.get("SCORECARDS_TEST_PAUSE_DIR")
    if not directory:
        return
    arrived = Path(directory, f"{point}-{os.getpid()}-{time.time_ns()}.arrived")
    arrived.with_suffix(".tmp").write_text(str(detail))
    arrived.with_suffix(".tmp").replace(arrived)  # seen whole or not at all
    hold, deadline = Path(directory, f"{point}.hold"), time.monotonic() + 60
    while hold.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def scorecard_compute(*, as_of=None, job=None, progress=None):
    """Compute a snapshot of all published MSOs unless nothing changed since the last one.

    Returns (snapshot, created). All rows of a snapshot are written in one transaction, so a
    computation that dies half-way leaves nothing behind.
    """
    as_of = as_of or timezone.localdate()
    progress = progress or (lambda percent, message: None)
    progress(5, "Reading the evidence")
    queries = QueryCounter()
    with connection.execute_wrapper(queries):
        methodology = current_methodology()
        weights = methodology.weights()
        evidence = gather_evidence(as_of=as_of)
    digest = fingerprint(evidence, methodology, weights)
    existing = ScorecardSnapshot.objects.filter(fingerprint=digest).first()
    if existing:
        return existing, False
    progress(40, "Scoring")
    documents = score_evidence(evidence, weights)
    progress(80, "Saving the snapshot")
    try:
        with transaction.atomic():
            _test_pause("writing")  # past the fingerprint check, nothing written yet
            snapshot = ScorecardSnapshot.objects.create(
                methodology=methodology, data_as_of=as_of, fingerprint=digest, job=job,
                query_count=queries.count, benchmarks={
                    "healthcare_average": evidence["healthcare_average"],
                    "bands": [list(band) for band in evidence["bands"]]},
            )  # fmt: skip
            _test_pause("snapshot_row_written", snapshot.pk)  # its scorecards not yet
            MsoScorecard.objects.bulk_create(
                MsoScorecard(
                    snapshot=snapshot, mso_id=int(mso_id), rank=d["rank"], total=d["total"],
                    coverage=d["coverage"], rank_stability=d["rank_stability"], document=d,
                    summary={key: d.get(key) for key in SUMMARY_KEYS},
                )  # fmt: skip
                for mso_id, d in documents.items()
            )
    except IntegrityError:
        # Another computation of the same evidence won the race: use its snapshot.
        return ScorecardSnapshot.objects.get(fingerprint=digest), False
    return snapshot, True


# --- Jobs ----------------------------------------------------------------------------------

COMPUTE_KIND = "compute_scorecards"
COMPUTE_TASK = "scorecards.tasks.scorecard_compute"  # by name: the task module imports this one
DEBOUNCE_SECONDS = 30


def scorecards_request_recompute(*, user=None, countdown=DEBOUNCE_SECONDS):
    """Ask for a new snapshot after evidence changed. However many requests arrive, at most
    one computation waits in the queue, starting ``countdown`` seconds after the first
    request; it sees every change made before it starts. Returns the queued (or already
    queued) job: never a failed one, nor one that no worker started in time (that one is
    failed, and a new one queued)."""
    for _ in range(3):
        pending = _pending_compute_job()
        if pending:
            return pending
        try:
            with transaction.atomic():
                return jobs.job_enqueue(task=COMPUTE_TASK, kind=COMPUTE_KIND, user=user,
                                        countdown=countdown)  # fmt: skip
        except IntegrityError:  # another request queued one a moment ago
            continue
    return _pending_compute_job()


def scorecards_recompute_now(*, user=None):
    """"Recompute now": start a computation at once. A computation already waiting for its
    debounce is sent again with no delay (its delayed message is then dropped); otherwise a
    new one is queued with none."""
    with transaction.atomic():
        pending = _pending_compute_job(lock=True)
        if pending is None:
            return scorecards_request_recompute(user=user, countdown=0)
        jobs.send_after_commit(pending, countdown=0)
    return pending


def scorecards_recompute_asked(*, user):
    """A person pressed "Recompute now" (the admin's first page and the scorecards page both
    have the button): refused unless they are a data admin; otherwise the computation is
    started at once (``scorecards_recompute_now``). Returns its job as it is after the send:
    failed, with the reason, if the broker refused the message."""
    if not user_has_role(user, DATA_ADMIN):
        raise PermissionDenied
    job = scorecards_recompute_now(user=user)
    job.refresh_from_db()
    return job


def _pending_compute_job(*, lock=False):
    """The healthy queued computation, if any; an orphaned one is failed on the way."""
    queued = Job.objects.filter(kind=COMPUTE_KIND, status=JobStatus.QUEUED)
    if lock:
        queued = queued.select_for_update()
    pending = queued.first()
    if pending is not None and Job.objects.filter(jobs.orphaned_q(), pk=pending.pk).exists():
        jobs.job_fail(pending, jobs.NOT_STARTED)
        return None
    return pending


def scorecard_compute_job(job):
    """The job's service: compute a snapshot, reporting progress on the job's row."""
    snapshot, created = scorecard_compute(
        job=job, progress=lambda percent, message: jobs.job_progress(job, percent=percent,
                                                                     message=message),
    )  # fmt: skip
    return {"snapshot_id": snapshot.pk, "created": created}


def latest_compute_job():
    job = Job.objects.filter(kind=COMPUTE_KIND).order_by("-created_at", "-id").first()
    return job and jobs.job_followed(job)


def weights_problem(weights):
    """The message for weights that do not sum to 100, or None."""
    total = sum(weights)
    if total != 100:
        return f"The weights add up to {total}; they must add up to 100."
    return None


def methodology_new_version(*, methodology):
    """A draft copy of a methodology as its next version; published versions never change."""
    with transaction.atomic():
        latest = (
            Methodology.objects.select_for_update().filter(name=methodology.name)
            .order_by("-version").first()
        )  # fmt: skip
        draft = Methodology.objects.create(
            name=methodology.name, version=latest.version + 1, notes=methodology.notes
        )
        draft.criteria.bulk_create(
            type(c)(methodology=draft, key=c.key, weight=c.weight)
            for c in methodology.criteria.all()
        )
    return draft


def methodology_publish(*, methodology):
    """Publish a draft; refuses weights that do not sum to 100. The next snapshot uses it."""
    from django.core.exceptions import ValidationError

    problem = weights_problem(c.weight for c in methodology.criteria.all())
    if problem:
        raise ValidationError(problem)
    methodology.published, methodology.published_at = True, timezone.now()
    methodology.save(update_fields=["published", "published_at"])
    transaction.on_commit(lambda: scorecards_request_recompute(countdown=0))
    return methodology
