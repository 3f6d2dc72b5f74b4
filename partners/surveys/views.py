"""The survey file pages, in the admin's look: upload, columns of an export, the check's
progress and preview, the import's progress and result, and the undo's progress.

Routed from ``urls.py`` through ``admin.site.admin_view``: staff only, and the admin's layout.
Every page that needs a file's layout reads it through ``reading.survey_file_layout``, the
same entry point as the import itself.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse

from .. import tasks
from ..csvfiles import ImportRefused
from ..jobs import job_enqueue, job_followed, job_for_user
from ..models import (
    SURVEY_IMPORT,
    SURVEY_PREVIEW,
    SURVEY_UNDO,
    Job,
    JobStatus,
    Practice,
    SurveyImport,
    SurveyResponse,
)
from ..uploads import (
    UPLOAD_EXPIRED,
    upload_exists,
    upload_open,
    upload_refusals_to_form,
    upload_stage_file,
)
from .formats import FORMATS, PLAIN, LayoutError, Mapping
from .forms import SurveyMappingForm, SurveyUploadForm
from .importing import UndoneImport, undo_message
from .reading import survey_file_layout
from .services import survey_mapping_offered


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
            if not _needs_columns(payload["upload"], chosen, practice):
                if practice:
                    payload["mapping"] = Mapping(format="plain", practice=practice).as_dict()
                return _survey_check(request, payload)
            request.session[PENDING_UPLOAD] = {**payload, "format": chosen, "practice": practice}
            return redirect("survey_upload_columns")
    context = _survey_context(request, title="Import a survey file", form=form)
    return TemplateResponse(request, "admin/partners/surveyimport/upload.html", context)


PENDING_UPLOAD = "survey_upload"  # the session key of an upload whose columns are being chosen


def _needs_columns(token, chosen, practice):
    """Whether a staged file is a survey tool's export whose columns the admin confirms first.
    A plain file, or one that is no export at all, goes to the check at once: the check says
    what it misses, as for any plain file."""
    if chosen not in ("auto", PLAIN.key):
        return True
    if chosen == PLAIN.key:
        return False
    try:
        read = survey_file_layout(upload_open(token=token), Mapping(practice=practice),
                                  settings.TIME_ZONE)  # fmt: skip
    except LayoutError as exc:
        return any(f is not PLAIN for f in exc.formats)
    except (ImportRefused, ValueError, OSError):
        return False
    return read.layout.format is not PLAIN


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
    names, detected, layout_errors, tried, found = [], None, [], None, {}

    def layout_of(mapping):
        return survey_file_layout(upload_open(token=pending["upload"]), mapping,
                                  settings.TIME_ZONE).layout  # fmt: skip

    try:
        detected = layout_of(Mapping(format=chosen, practice=practice))
        names = detected.names
    except LayoutError as exc:
        layout_errors = [str(e) for e in exc.errors]
        names, tried, found = exc.names, exc.format, exc.found
    except ImportRefused as exc:
        layout_errors = [str(e) for e in exc.errors]
    except OSError:
        messages.error(request, UPLOAD_EXPIRED)
        return redirect("survey_upload")
    if detected is not None:
        tool = detected.format.key
    elif tried is not None and tried is not PLAIN:
        tool = tried.key
    else:
        tool = chosen if chosen in FORMATS and chosen != PLAIN.key else "qualtrics"
    saved = survey_mapping_offered(tool=tool, practice_id=_practice_id(practice))
    if saved is not None and not {saved.score_column, saved.date_column} <= set(names):
        saved = None  # the file's columns changed since: offer what was detected
    initial = {"format": tool, "practice": practice, "time_zone": settings.TIME_ZONE}
    if detected is None:
        initial.update(score_column=found.get("score", ""),
                       date_column=found.get("responded_on", ""),
                       id_column=found.get("response_id", ""),
                       practice_column=found.get("practice", ""))  # fmt: skip
    else:
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
                layout = layout_of(mapping)
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
            current = layout_of(form.mapping())
        except (ImportRefused, OSError):
            current = detected
    context = _survey_context(
        request, title=f"Columns of {pending['file_name']}", form=form,
        file_name=pending["file_name"], source=pending["source"], layout=current,
        layout_errors=layout_errors, saved=saved, chosen=chosen,
        utc=FORMATS[tool].utc if tool in FORMATS else False,
    )  # fmt: skip
    return TemplateResponse(request, "admin/partners/surveyimport/columns.html", context)


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
