"""The Celery app as the suite's workers run it: the project's app, plus one test-only hook.

Transactional tests flush the database after each test, and the flush creates the content
types again under new ids. A worker living through many tests would keep the old ids in
``ContentType``'s per-process cache and write audit entries that point at deleted rows (an
IntegrityError). So before each task it forgets them; a deployed database is never flushed.
"""

from celery.signals import task_postrun, task_prerun

from mso_eval.celery import app

__all__ = ["app"]


@task_prerun.connect
def _forget_content_type_ids(**kwargs):
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@task_postrun.connect
def _log_peak_memory(task_id=None, **kwargs):
    """The peak resident memory of the process that ran the task, in its log, so that a test
    can assert it (with --max-tasks-per-child=1 each task has a process of its own)."""
    import logging
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    logging.getLogger(__name__).warning("task %s peak memory %d KiB", task_id, peak)
