import logging
import os

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection

from . import selectors, tasks
from .csvfiles import ImportRefused
from .forms import (
    ReferenceInterviewForm,
    SurveyMappingForm,
    SurveyUploadForm,
    practices_of_mso,
    promise_formset,
    save_promise_ledger,
)
from .jobs import job_enqueue, job_followed, job_for_user
from .models import (
    MSO,
    SURVEY_IMPORT,
    SURVEY_PREVIEW,
    SURVEY_UNDO,
    Job,
    JobStatus,
    Practice,
    ReferenceInterview,
    SurveyImport,
    SurveyResponse,
)
from .roles import CONSULTANT, DATA_ADMIN, user_has_role
from .signals import evidence_changed
from .survey_formats import (
    FORMATS,
    Mapping,
    detect_formats,
    file_layout,
    head_records,
    read_layout,
    table_open,
)
from .survey_import import (
    REQUIRED_COLUMNS,
    UndoneImport,
    survey_mapping_offered,
    undo_message,
)
from .uploads import (
    UPLOAD_EXPIRED,
    upload_exists,
    upload_open,
    upload_refusals_to_form,
    upload_stage_file,
)

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
    return render(request, "partners/interview_form.html", {
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


# --- Survey files: upload, preview, confirm, undo (in the admin's look) -----------------------
# Routed from urls.py through admin.site.admin_view: staff only, and the admin's layout.


def can_upload_surveys(user):
    """Whoever may add survey responses (data admins) may upload survey files."""
    opts = SurveyResponse._meta
    return user.has_perm(f"{opts.app_label}.{get_permission_codename('add', opts)}")


def _survey_context(request, **extra):
    return {**admin.site.each_context(request), "opts": SurveyImport._meta, **extra}


def survey_upload(request):
    """Upload a survey file: it is staged on disk. A plain file is checked by a background
    job at once; a survey tool's export first shows the columns that will be read."""
    if not can_upload_surveys(request.user):
        raise PermissionDenied
    form = SurveyUploadForm()
    if request.method == "POST":
        form = SurveyUploadForm(request.POST, request.FILES)
        upload_refusals_to_form(request, form)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            payload = {
                "upload": upload_stage_file(fileobj=upload),
                "file_name": upload.name,
                "source": form.cleaned_data["source"].strip(),
                "user_id": request.user.pk,
            }
            chosen = form.cleaned_data["format"] or "auto"
            practice = form.cleaned_data["practice"].strip()
            if chosen == "plain" or (chosen == "auto" and _looks_plain(payload["upload"])):
                if practice:
                    payload["mapping"] = Mapping(format="plain", practice=practice).as_dict()
                return _survey_check(request, payload)
            request.session[PENDING_UPLOAD] = {**payload, "format": chosen, "practice": practice}
            return redirect("survey_upload_columns")
    context = _survey_context(request, title="Import a survey file", form=form)
    return render(request, "admin/partners/surveyimport/upload.html", context)


PENDING_UPLOAD = "survey_upload"  # the session key of an upload whose columns are being chosen


def _looks_plain(token):
    """Whether a staged file is in the plain format, or is no export at all: then the check
    job says what it misses, as for any plain file."""
    try:
        with upload_open(token=token) as stream:
            table = table_open(stream)
            try:
                rows = head_records(table, 1)
            finally:
                table.close()
    except (ImportRefused, ValueError, OSError):
        return True
    if not rows:
        return True
    found = detect_formats(rows[0])
    names = {v.strip().lower() for v in rows[0]}
    if not found:
        return bool(names & set(REQUIRED_COLUMNS))
    return [f.key for f in found] == ["plain"]


def _survey_check(request, payload):
    job = job_enqueue(task=tasks.survey_check, kind=SURVEY_PREVIEW, payload=payload,
                      user=request.user)  # fmt: skip
    return redirect("survey_upload_job", job.pk)


def _practice_id(text):
    """The practice a code or (unique) name names, or None."""
    text = (text or "").strip()
    if not text:
        return None
    found = list(Practice.objects.filter(code=text).values_list("pk", flat=True))
    if not found:
        found = list(Practice.objects.filter(name__iexact=text).values_list("pk", flat=True)[:2])
    return found[0] if len(found) == 1 else None


def survey_upload_columns(request):
    """The columns of an export: detected (or saved from the last import of the practice's
    exports from that tool), for the data admin to confirm or change before the check."""
    if not can_upload_surveys(request.user):
        raise PermissionDenied
    pending = request.session.get(PENDING_UPLOAD)
    if not pending or not upload_exists(token=pending["upload"]):
        messages.error(request, UPLOAD_EXPIRED)
        return redirect("survey_upload")
    chosen = request.POST.get("format") or pending["format"]
    if chosen not in FORMATS:
        chosen = "auto"
    practice = request.POST.get("practice", pending["practice"]) or ""
    names, detected, layout_errors, rows = [], None, [], []
    try:
        with upload_open(token=pending["upload"]) as stream:
            _table, rows, detected = file_layout(
                stream, Mapping(format=chosen, practice=practice), settings.TIME_ZONE
            )
    except ImportRefused as exc:
        layout_errors = [str(e) for e in exc.errors]
    except OSError:
        messages.error(request, UPLOAD_EXPIRED)
        return redirect("survey_upload")
    if rows:
        if detected is not None:
            names = detected.names
        else:
            names = [v.strip() for v in rows[0]]
    tool = detected.format.key if detected else (chosen if chosen != "auto" else "qualtrics")
    saved = survey_mapping_offered(tool=tool, practice_id=_practice_id(practice))
    if saved is not None and not {saved.score_column, saved.date_column} <= set(names):
        saved = None  # the file's columns changed since: offer what was detected
    initial = {"format": tool, "practice": practice, "time_zone": settings.TIME_ZONE}
    if detected is not None:
        initial.update(score_column=detected.column("score"),
                       date_column=detected.column("responded_on"),
                       id_column=detected.column("response_id"),
                       practice_column=detected.column("practice"))  # fmt: skip
    if saved is not None:
        initial.update(score_column=saved.score_column, date_column=saved.date_column,
                       id_column=saved.id_column, practice_column=saved.practice_column,
                       time_zone=saved.time_zone or settings.TIME_ZONE)  # fmt: skip
    form = SurveyMappingForm(initial=initial, names=names)
    if request.method == "POST" and "check" in request.POST:
        form = SurveyMappingForm(request.POST, names=names)
        if form.is_valid():
            mapping = form.mapping()
            try:
                layout = read_layout(rows, mapping, settings.TIME_ZONE)
            except ImportRefused as exc:
                for error in exc.errors:
                    form.add_error(None, error.message)
            else:
                del request.session[PENDING_UPLOAD]
                mapping.format = layout.format.key
                payload = {k: pending[k] for k in ("upload", "file_name", "source", "user_id")}
                return _survey_check(request, {**payload, "mapping": mapping.as_dict()})
    current = detected
    if detected is not None and form.is_bound and form.is_valid():
        try:
            current = read_layout(rows, form.mapping(), settings.TIME_ZONE)
        except ImportRefused:
            current = detected
    context = _survey_context(
        request, title=f"Columns of {pending['file_name']}", form=form,
        file_name=pending["file_name"], source=pending["source"], layout=current,
        layout_errors=layout_errors, saved=saved, chosen=chosen,
        utc=FORMATS[tool].utc if tool in FORMATS else False,
    )  # fmt: skip
    return render(request, "admin/partners/surveyimport/columns.html", context)


def survey_upload_job(request, job_id):
    """The check or import of one file: its progress, then its preview, errors or result.

    htmx polls the ``job`` partial every second until the job is finished. POST confirms a
    preview: the import is queued."""
    if not can_upload_surveys(request.user):
        raise PermissionDenied
    job = job_for_user(get_object_or_404(Job, pk=job_id, kind__in=(SURVEY_PREVIEW, SURVEY_IMPORT)),
                       request.user)  # fmt: skip
    if request.method == "POST":
        return _survey_confirm(request, job)
    job_followed(job)
    result = job.result or {}
    errors = result.get("errors", [])
    context = _survey_context(
        request,
        title=f"Import {job.payload.get('file_name', 'a survey file')}",
        job=job,
        file_name=job.payload.get("file_name", ""),
        source=job.payload.get("source", ""),
        result=result,
        errors=errors,
        error_count=result.get("error_count", len(errors)),
        more_errors=result.get("error_count", len(errors)) - len(errors),
        import_job=Job.objects.filter(
            kind=SURVEY_IMPORT, payload__preview_job=job.pk
        ).first() if job.kind == SURVEY_PREVIEW else None,
    )  # fmt: skip
    template = "admin/partners/surveyimport/upload_job.html"
    if request.htmx:
        template += "#job"
    return render(request, template, context)


def _survey_confirm(request, preview):
    """Queue the import of a file whose preview the data admin has seen."""
    if preview.kind != SURVEY_PREVIEW or preview.status != JobStatus.SUCCEEDED:
        messages.error(request, "Only a file that passed its check can be imported.")
        return redirect("survey_upload_job", preview.pk)
    with transaction.atomic():
        # Locked, so that a double click queues one import, not two.
        preview = Job.objects.select_for_update().get(pk=preview.pk)
        job = Job.objects.filter(kind=SURVEY_IMPORT, payload__preview_job=preview.pk).first()
        if job is None:
            if not upload_exists(token=preview.payload["upload"]):
                messages.error(request, UPLOAD_EXPIRED)
                return redirect("survey_upload")
            payload = {
                "upload": preview.payload["upload"],
                "file_name": preview.payload["file_name"],
                "source": preview.payload["source"],
                "user_id": request.user.pk,
                "preview_job": preview.pk,
            }
            if preview.payload.get("mapping"):
                payload["mapping"] = preview.payload["mapping"]
            job = job_enqueue(task=tasks.survey_import, kind=SURVEY_IMPORT, payload=payload,
                              user=request.user)  # fmt: skip
    return redirect("survey_upload_job", job.pk)


def survey_undo_job(request, job_id):
    """The undo of some imports: which one is being undone, then what was deleted."""
    opts = SurveyImport._meta
    if not request.user.has_perm(f"{opts.app_label}.{get_permission_codename('delete', opts)}"):
        raise PermissionDenied
    job = job_for_user(get_object_or_404(Job, pk=job_id, kind=SURVEY_UNDO), request.user)
    job_followed(job)
    result = job.result or {}
    numbers = ", ".join(f"#{pk}" for pk in job.payload["imports"])
    context = _survey_context(
        request,
        title=f"Undo import{pluralize(job.payload['imports'])} {numbers}",
        job=job,
        undone=[undo_message(UndoneImport(**undone)) for undone in result.get("undone", [])],
        missing=result.get("missing", []),
    )
    template = "admin/partners/surveyimport/undo_job.html"
    if request.htmx:
        template += "#job"
    return render(request, template, context)
