"""The Celery app as the suite's workers run it: the project's app, plus one test-only hook.

Transactional tests flush the database after each test, and the flush creates the content
types again under new ids. A worker living through many tests would keep the old ids in
``ContentType``'s per-process cache and write audit entries that point at deleted rows (an
IntegrityError). So before each task it forgets them; a deployed database is never flushed.
"""

from celery.signals import task_prerun

from mso_eval.celery import app

__all__ = ["app"]


@task_prerun.connect
def _forget_content_type_ids(**kwargs):
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
