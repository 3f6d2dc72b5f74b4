"""One Celery task per job kind: each takes a job's id and runs one service."""

from celery import shared_task

from partners import jobs

from .services import scorecard_compute_job


@shared_task(bind=True)
def scorecard_compute(self, job_id):
    jobs.job_run(job_id=job_id, work=scorecard_compute_job, message_id=self.request.id)
