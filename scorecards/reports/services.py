"""Creating, rendering and retrying consultant reports.

A report's row and its render job are written in one transaction; the job's task is sent to
the ``reports`` queue once it commits (``partners.jobs.job_enqueue``), and the worker stores
the PDF at one path per report, so rendering twice stores one file.
"""

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from partners import jobs
from partners.audit import audit_report
from partners.jobs import JobError
from partners.models import MSO, consultant_signature
from partners.roles import CONSULTANT, DATA_ADMIN, user_has_role

from ..models import Report, ScorecardSnapshot
from .content import MAX_MSOS, MIN_MSOS, SECTION_KEYS, report_facts
from .render import report_pdf

REPORT_KIND = "report_render"
REPORT_TASK = "scorecards.tasks.report_render"  # by name: the task module imports this one

TOO_FEW_MSOS = f"Choose at least {MIN_MSOS} MSOs."
TOO_MANY_MSOS = f"Choose at most {MAX_MSOS} MSOs."
WEIGHTS_NOT_100 = "The weights must add up to 100 (they add up to {total})."
NO_SNAPSHOT = "No scorecard snapshot has been computed yet; compute one first."


def too_long_message():
    return (f"The report took longer than {settings.REPORTS_SOFT_TIME_LIMIT} seconds to "
            "render and was stopped. Try again with fewer MSOs or sections.")  # fmt: skip


class ReportRefused(ValueError):
    """Inputs a report cannot be made from; the message says which and why."""


def report_check_inputs(*, snapshot, slugs, weights):
    """Raise ReportRefused naming the first problem of these inputs."""
    if snapshot is None:
        raise ReportRefused(NO_SNAPSHOT)
    slugs = list(dict.fromkeys(slugs))
    if len(slugs) < MIN_MSOS:
        raise ReportRefused(TOO_FEW_MSOS)
    if len(slugs) > MAX_MSOS:
        raise ReportRefused(TOO_MANY_MSOS)
    in_snapshot = set(
        snapshot.scorecards.filter(mso__slug__in=slugs).values_list("mso__slug", flat=True)
    )
    unknown = [s for s in slugs if s not in in_snapshot]
    if unknown:
        known = set(MSO.objects.filter(slug__in=unknown).values_list("slug", flat=True))
        missing = [s for s in unknown if s not in known]
        if missing:
            raise ReportRefused("Unknown MSO: " + ", ".join(missing) + ".")
        raise ReportRefused(f"Not in snapshot #{snapshot.pk}: " + ", ".join(unknown) + ".")
    total = sum(weights.values())
    if total != 100:
        raise ReportRefused(WEIGHTS_NOT_100.format(total=total))
    return slugs


def can_make_reports(user):
    """Reports are for consultants; data admins (and superusers) may make them too."""
    return user_has_role(user, CONSULTANT) or user_has_role(user, DATA_ADMIN)


def report_build(*, client_name, prepared_by, snapshot, slugs, weights, must_haves=None,
                 sections=SECTION_KEYS, paper="letter", user=None, firm=""):
    """An unsaved Report with its facts frozen (checked first: see report_check_inputs)."""
    slugs = report_check_inputs(snapshot=snapshot, slugs=slugs, weights=weights)
    return Report(
        created_by=user, client_name=client_name.strip(), prepared_by=prepared_by.strip(),
        firm=(firm or "").strip(),
        snapshot=snapshot, msos=slugs, weights=dict(weights), must_haves=must_haves or {},
        sections=[s for s in SECTION_KEYS if s in sections], paper=paper,
        facts=report_facts(slugs=slugs, snapshot=snapshot),
    )  # fmt: skip


def report_create(*, user, prepared_by="", firm=None, **inputs):
    """Save a report and queue its render; the task is sent once the transaction commits.
    ``prepared_by`` and ``firm`` default to the consultant's profile (consultant_signature)."""
    name, profile_firm = consultant_signature(user)
    report = report_build(user=user, prepared_by=(prepared_by or "").strip() or name,
                          firm=profile_firm if firm is None else firm, **inputs)  # fmt: skip
    with transaction.atomic():
        report.job = jobs.job_enqueue(task=REPORT_TASK, kind=REPORT_KIND, user=user)
        report.save()
    return report


def report_retry(*, report):
    """Render a failed report again, as a new job."""
    if report.job is not None and not report.job.is_finished:
        return report
    with transaction.atomic():
        report.job = jobs.job_enqueue(task=REPORT_TASK, kind=REPORT_KIND, user=report.created_by)
        report.save(update_fields=["job"])
    return report


def report_file_name(report):
    return f"reports/report-{report.pk}.pdf"


def report_store(*, report, pdf, pages):
    """Store the PDF at the report's one path (a second render replaces the first)."""
    name = report_file_name(report)
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(pdf))
    now = timezone.now()
    Report.objects.filter(pk=report.pk).update(file=stored, size=len(pdf), pages=pages,
                                               rendered_at=now)  # fmt: skip
    report.file.name, report.size, report.pages, report.rendered_at = stored, len(pdf), pages, now


def report_render_job(job):
    """The job's service: render the report that owns ``job`` and store its PDF."""
    report = (
        Report.objects.select_related("snapshot__methodology").filter(job=job).first()
    )
    if report is None:
        raise JobError("This report no longer exists.")
    try:
        jobs.job_progress(job, percent=10, message="Reading the snapshot")
        _test_pause_render()
        pdf, pages = report_pdf(report)
        jobs.job_progress(job, percent=90, message="Saving the PDF")
        report_store(report=report, pdf=pdf, pages=pages)
        audit_report(user=report.created_by, obj=report, event="generated",
                     snapshot=report.snapshot_id, msos=report.msos, pages=pages)  # fmt: skip
    except SoftTimeLimitExceeded:
        raise JobError(too_long_message()) from None
    return {"report_id": report.pk, "size": len(pdf), "pages": pages}


def report_fail_too_long(job_id):
    """Past the hard time limit the worker kills the render; its main process calls this."""
    job = jobs.Job.objects.filter(pk=job_id).first()
    if job is not None:
        jobs.job_fail(job, too_long_message())


def _test_pause_render():
    """For tests only (inert unless REPORTS_TEST_RENDER_DELAY is set in the worker's
    environment): sleep that many seconds before laying out, so a test can kill the worker
    mid-render or pass a time limit."""
    import os
    import time

    delay = os.environ.get("REPORTS_TEST_RENDER_DELAY")
    if delay:
        time.sleep(float(delay))


def snapshots_for_reports():
    return ScorecardSnapshot.objects.select_related("methodology").order_by("-computed_at", "-id")
