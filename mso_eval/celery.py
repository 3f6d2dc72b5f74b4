import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mso_eval.settings")

app = Celery("mso_eval")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
