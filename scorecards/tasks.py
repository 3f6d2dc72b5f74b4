"""One Celery task per job kind: each takes a job's id and runs one service."""

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings

from partners import jobs

from .reports.services import report_fail_too_long, report_render_job
from .services import scorecard_compute_job


@shared_task(bind=True, **jobs.time_limits(settings.SCORECARDS_COMPUTE_TIME_LIMIT))
def scorecard_compute(self, job_id):
    jobs.job_run_in_task(self, job_id, scorecard_compute_job)


class _ReportTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # A hard time limit kills the render's process; the worker calls this in its main
        # process, so the report says why instead of staying "rendering".
        if isinstance(exc, TimeLimitExceeded) and args:
            report_fail_too_long(args[0])


@shared_task(bind=True, base=_ReportTask, acks_late=True, reject_on_worker_lost=True,
             soft_time_limit=settings.REPORTS_SOFT_TIME_LIMIT,
             time_limit=settings.REPORTS_TIME_LIMIT)  # fmt: skip
def report_render(self, job_id):
    """Routed to the ``reports`` queue (CELERY_TASK_ROUTES)."""
    jobs.job_run(job_id=job_id, work=report_render_job, message_id=self.request.id)
