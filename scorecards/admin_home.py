"""The admin's first page: what data admins do (upload survey files, follow imports and jobs,
keep the scorecards current, close evidence gaps) above the usual list of tables.

Each section is one bounded read (its count and first rows in one query, through an index),
so the page costs the same number of queries however many responses, jobs or MSOs there are.
It lives here because it reads both apps; the roles page it links to belongs to partners. The
project's admin site (``mso_eval.admin_site``) serves it: its index reads ``home_context`` and
its URLs include ``recompute``, so login, permissions and checks are the site's own."""

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import Count, Window
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from partners.models import (
    SURVEY_IMPORT,
    SURVEY_PREVIEW,
    SURVEY_UNDO,
    Job,
    JobStatus,
    Practice,
)
from partners.roles import DATA_ADMIN, user_has_role
from partners.selectors import silent_practice_q

from . import scoring, selectors, services
from .models import CRITERION_CHOICES, MsoScorecard
from .reports.services import REPORT_KIND

FIRST_ROWS = 10  # rows shown per section; the count says how many there are in all
RECENT_IMPORTS = 5
FAILED_JOBS_DAYS = 7  # failed jobs older than this are history, not something to act on
CRITERION_LABELS = dict(CRITERION_CHOICES)
JOB_KINDS = {
    SURVEY_PREVIEW: "Survey file check", SURVEY_IMPORT: "Survey file import",
    SURVEY_UNDO: "Undo of survey imports", services.COMPUTE_KIND: "Scorecard computation",
    REPORT_KIND: "Consultant report",
}  # fmt: skip


@dataclass(frozen=True)
class Section:
    """A count and the first rows of it."""

    count: int
    rows: list

    @property
    def more(self):
        return self.count - len(self.rows)


def _section(queryset, limit=FIRST_ROWS):
    """The first ``limit`` rows of a queryset and how many it has, in one query."""
    rows = list(queryset.annotate(found=Window(Count("pk")))[:limit])
    return Section(rows[0].found if rows else 0, rows)


# --- The snapshot's state: a pure function of what was read --------------------------------

CURRENT, STALE, COMPUTING, FAILED, NONE = "current", "stale", "computing", "failed", "none"


def snapshot_state(*, snapshot, job, today):
    """(state, sentence) of the latest snapshot given the latest computation job."""
    if job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return COMPUTING, (
            "The evidence changed; new scorecards are being computed "
            f"(job #{job.pk}, {job.get_status_display().lower()})."
        )
    if snapshot is None:
        return NONE, "No scorecards have been computed yet: press Recompute now."
    if job is not None and job.status == JobStatus.FAILED and job.created_at > snapshot.computed_at:
        return FAILED, (
            f"The last recomputation failed: {job.error or 'no reason given'} "
            "Surgeons still see the scorecards below; press Recompute now to retry."
        )
    if snapshot.data_as_of < today:
        return STALE, (
            f"These scorecards count evidence up to {snapshot.data_as_of:%B %-d, %Y}; "
            "press Recompute now to bring them up to today."
        )
    return CURRENT, "The scorecards are up to date with the evidence."


def missing_criteria(summary):
    """The criteria an unranked MSO lacks evidence for, heaviest first, in words."""
    criteria = summary.get("criteria") or {}
    lacking = [(c.get("weight", 0), key) for key, c in criteria.items()
               if c.get("status") != scoring.OK]  # fmt: skip
    return [CRITERION_LABELS.get(key, key).lower() for _, key in sorted(lacking, reverse=True)]


# --- Reads ----------------------------------------------------------------------------------


def recent_imports():
    return list(Job.objects.filter(kind=SURVEY_IMPORT).select_related("created_by")
                .order_by("-created_at", "-id")[:RECENT_IMPORTS])  # fmt: skip


def jobs_to_look_at(now):
    """Jobs waiting for a worker, and jobs that failed in the last days."""
    since = now - datetime.timedelta(days=FAILED_JOBS_DAYS)
    waiting = Job.objects.filter(status=JobStatus.QUEUED)
    failed = Job.objects.filter(status=JobStatus.FAILED, created_at__gte=since)
    jobs = _section((waiting | failed).order_by("-created_at", "-id"))
    for job in jobs.rows:
        job.kind_label = JOB_KINDS.get(job.kind, job.kind)
    return jobs


def unranked_msos(snapshot):
    if snapshot is None:
        return Section(0, [])
    return _section(
        MsoScorecard.objects.filter(snapshot=snapshot, rank__isnull=True)
        .order_by("coverage", "mso_id").only("mso_id", "coverage", "summary")
    )  # fmt: skip


def practices_without_responses(today):
    """Practices with an MSO today and no survey response this year (the admin's practice
    list shows them all with ``partners.admin.SilentPracticesFilter``)."""
    return _section(
        Practice.objects.filter(silent_practice_q(today))
        .order_by("name", "pk").only("name", "code", "state")
    )  # fmt: skip


def home_context(request):
    now = timezone.now()
    today = timezone.localdate(now)
    snapshot = selectors.latest_snapshot()
    # Read only (the scorecards page also sweeps jobs no worker took; the sweep does that).
    compute = Job.objects.filter(kind=services.COMPUTE_KIND).order_by("-created_at", "-id").first()
    state, state_text = snapshot_state(snapshot=snapshot, job=compute, today=today)
    unranked = unranked_msos(snapshot)
    for card in unranked.rows:
        card.name, card.missing = card.summary.get("name", ""), missing_criteria(card.summary)
    return {
        "is_data_admin": user_has_role(request.user, DATA_ADMIN),
        "recent_imports": recent_imports(),
        "jobs": jobs_to_look_at(now),
        "snapshot": snapshot,
        "snapshot_state": state,
        "snapshot_state_text": state_text,
        "unranked": unranked,
        "silent_practices": practices_without_responses(today),
        "this_year": today.year,
        "failed_days": FAILED_JOBS_DAYS,
    }


@require_POST
def recompute(request):
    """The Recompute now button of the admin's first page (the scorecards page has one too);
    the admin site serves it (``mso_eval.admin_site``)."""
    job = services.scorecards_recompute_asked(user=request.user)
    if job.status == JobStatus.FAILED:
        messages.error(request, job.error)
        return redirect("admin:index")
    messages.success(
        request,
        f"Recomputation queued (job #{job.pk}); the new scorecards "
        "replace the current ones when it finishes.",
    )
    return redirect("admin:index")
