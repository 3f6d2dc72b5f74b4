import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from . import selectors
from .services import DATA_ADMIN, user_has_role


def home(request):
    msos = selectors.published_msos_with_practice_counts(day=timezone.localdate())
    return render(
        request,
        "partners/home.html",
        {"msos": msos, "is_data_admin": user_has_role(request.user, DATA_ADMIN)},
    )


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    with Connection(
        settings.CELERY_BROKER_URL, transport_options=options, connect_timeout=2
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
        # The filesystem transport "connects" to anything; its queue folder must be usable.
        folder = options.get("data_folder_out")
        if conn.transport_cls == "filesystem" and folder:
            if not os.access(folder, os.W_OK):
                raise OSError(f"broker folder {folder} is not writable")


@login_not_required
@require_GET
@never_cache
def healthz(request):
    checks, healthy = {}, True
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            healthy = False
            checks[name] = f"error: {exc.__class__.__name__}: {exc}"[:300]
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
