import logging
import os

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from . import selectors
from .forms import (
    ReferenceInterviewForm,
    practices_of_mso,
    promise_formset,
    save_promise_ledger,
)
from .models import (
    MSO,
    ReferenceInterview,
)
from .roles import CONSULTANT, DATA_ADMIN, user_has_role
from .signals import evidence_changed

logger = logging.getLogger(__name__)


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
    """200 when the database and the broker answer, else 503 naming the failing part; what
    went wrong (hosts, ports, messages) goes to the log only: anybody may call this."""
    checks, healthy = {}, True
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            healthy = False
            checks[name] = "error"
            logger.error("health check: the %s failed: %s: %s", name,
                         exc.__class__.__name__, exc)  # fmt: skip
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )


# --- Reference interviews ------------------------------------------------------------------


def _require_interviewer(user):
    """Consultants and data admins record interviews; others may not see them."""
    if not (user_has_role(user, CONSULTANT) or user_has_role(user, DATA_ADMIN)):
        raise PermissionDenied


def _get_interview_for_user(request, pk):
    interview = get_object_or_404(ReferenceInterview.objects.select_related("mso"), pk=pk)
    if user_has_role(request.user, DATA_ADMIN):
        return interview
    if user_has_role(request.user, CONSULTANT) and interview.recorded_by_id == request.user.pk:
        return interview
    raise PermissionDenied


def interview_list(request):
    _require_interviewer(request.user)
    interviews = (
        ReferenceInterview.objects.select_related("mso", "practice", "recorded_by")
        .annotate(ledger_items=Count("promise_ledger"))
        .order_by("-interviewed_on", "-id")
    )
    mso = request.GET.get("mso")
    if mso:
        interviews = interviews.filter(mso__slug=mso)
    page = Paginator(interviews, 50).get_page(request.GET.get("page"))
    return render(request, "partners/interview_list.html", {
        "page": page, "msos": MSO.objects.order_by("name"), "selected_mso": mso,
        "is_data_admin": user_has_role(request.user, DATA_ADMIN),
    })  # fmt: skip


@require_GET
def interview_detail(request, pk):
    """Any reference interview, read-only, for consultants and data admins. The surgeon is
    named only with their consent to be quoted (their recorder and data admins see the name
    anyway: they have it)."""
    _require_interviewer(request.user)
    interview = get_object_or_404(
        ReferenceInterview.objects.select_related("mso", "practice"), pk=pk
    )
    own = interview.recorded_by_id == request.user.pk or user_has_role(request.user, DATA_ADMIN)
    return render(request, "partners/interview_detail.html", {
        "interview": interview, "named": interview.consent_to_quote or own, "can_edit": own,
        "ledger": interview.promise_ledger.order_by("service_area"),
    })  # fmt: skip


def _interview_form(request, interview):
    creating = interview.pk is None
    initial = {}
    if creating:
        initial = {"interviewed_on": timezone.localdate(),
                   "interviewer": request.user.get_full_name() or request.user.get_username()}
        if request.GET.get("mso"):
            initial["mso"] = MSO.objects.filter(slug=request.GET["mso"]).first()
    form = ReferenceInterviewForm(request.POST or None, instance=interview, initial=initial)
    ledger = promise_formset(data=request.POST or None, interview=interview)
    if request.method == "POST" and form.is_valid() and ledger.is_valid():
        with transaction.atomic():
            interview = form.save(commit=False)
            if creating:
                interview.recorded_by = request.user
            interview.save()
            save_promise_ledger(interview, ledger)
            evidence_changed.send(sender=ReferenceInterview, mso_ids=[interview.mso_id])
        verb = "Recorded" if creating else "Saved"
        messages.success(request, f"{verb} the interview with {interview.interviewee}.")
        return redirect("interview_list")
    # A TemplateResponse, so that a form given back with errors is logged (RefusedFormsLogged).
    return TemplateResponse(request, "partners/interview_form.html", {
        "form": form, "ledger": ledger, "interview": interview, "creating": creating,
        "practices": form.fields["practice"].queryset,
    })  # fmt: skip


def interview_create(request):
    _require_interviewer(request.user)
    return _interview_form(request, ReferenceInterview())


def interview_edit(request, pk):
    return _interview_form(request, _get_interview_for_user(request, pk))


def interview_delete(request, pk):
    interview = _get_interview_for_user(request, pk)
    if request.method == "POST":
        with transaction.atomic():
            mso_id = interview.mso_id
            interview.delete()
            evidence_changed.send(sender=ReferenceInterview, mso_ids=[mso_id])
        messages.success(request, f"Deleted the interview with {interview.interviewee}.")
        return redirect("interview_list")
    return render(request, "partners/interview_confirm_delete.html", {"interview": interview})


@require_GET
def interview_practice_options(request):
    """The practice choices for the MSO picked in the interview form (htmx)."""
    _require_interviewer(request.user)
    practices = practices_of_mso(request.GET.get("mso"))
    return render(request, "partners/interview_form.html#practice-options",
                  {"practices": practices})  # fmt: skip
