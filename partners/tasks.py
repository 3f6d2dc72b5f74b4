"""One Celery task per job kind: each takes a job's id and runs one service (see jobs.py)."""

from celery import shared_task
from django.conf import settings

from . import jobs, uploads
from .surveys.services import survey_file_check, survey_file_import, survey_imports_undo


@shared_task(bind=True, **jobs.time_limits(settings.SURVEY_CHECK_TIME_LIMIT))
def survey_check(self, job_id):
    jobs.job_run_in_task(self, job_id, survey_file_check)


@shared_task(bind=True, **jobs.time_limits(settings.SURVEY_IMPORT_TIME_LIMIT))
def survey_import(self, job_id):
    jobs.job_run_in_task(self, job_id, survey_file_import)


@shared_task(bind=True, **jobs.time_limits(settings.SURVEY_UNDO_TIME_LIMIT))
def survey_undo(self, job_id):
    jobs.job_run_in_task(self, job_id, survey_imports_undo)


@shared_task
def jobs_sweep():
    """Run every minute by the worker's beat (see CELERY_BEAT_SCHEDULE)."""
    return jobs.jobs_sweep()


@shared_task
def uploads_sweep():
    """Run by the worker's beat: staged files of previews never confirmed are deleted."""
    return uploads.uploads_sweep()
