from celery import shared_task

from . import services


@shared_task
def job_run(job_id):
    services.job_execute(job_id=job_id)
