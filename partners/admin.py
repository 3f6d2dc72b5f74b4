import itertools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import pluralize
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from .models import (
    MSO,
    Accreditation,
    Affiliation,
    AggregateNPSSubmission,
    Benchmark,
    Claim,
    Job,
    JobStatus,
    MSOService,
    Practice,
    PromiseItem,
    QualityDesignation,
    ReferenceInterview,
    SurveyComment,
    SurveyImport,
    SurveyResponse,
    overlap_message,
)
from .rollups import rollups_rebuild_practices
from .selectors import active_affiliation_q
from .services import (
    PRACTICE_COLUMNS,
    PRACTICE_OPTIONAL_COLUMNS,
    UPLOAD_EXPIRED,
    ImportRefused,
    job_enqueue,
    practices_import,
    upload_discard,
    upload_exists,
    upload_read,
    upload_stage,
    upload_stage_file,
)
from .signals import evidence_changed
from .survey_import import OPTIONAL_COLUMNS as SURVEY_OPTIONAL_COLUMNS
from .survey_import import REQUIRED_COLUMNS as SURVEY_REQUIRED_COLUMNS
from .survey_import import SOURCE_MAX, UndoneImport


class SendsEvidenceChanged:
    """Admin changes to evidence ask the scorecards to recompute (debounced)."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        evidence_changed.send(sender=self.model)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        evidence_changed.send(sender=self.model)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)
        evidence_changed.send(sender=self.model)


class RebuildsPracticeRollups:
    """For models with a ``practice`` whose rows move NPS counts (responses, affiliations): the
    practices' rollups are rebuilt in the same transaction as every change. The admin wraps
    the change and delete pages in one; bulk deletes (delete_queryset) open their own."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        rollups_rebuild_practices(practice_ids=[form.initial.get("practice"), obj.practice_id])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        rollups_rebuild_practices(practice_ids=[obj.practice_id])

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            practice_ids = set(queryset.values_list("practice_id", flat=True).distinct())
            super().delete_queryset(request, queryset)
            rollups_rebuild_practices(practice_ids=practice_ids)


class AffiliationFormSet(forms.BaseInlineFormSet):
    """Refuse overlaps between rows of the same form, which clean() cannot see."""

    def clean(self):
        super().clean()
        spans = []
        fk = self.fk.name
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE") or not data.get("started_on"):
                continue
            practice = self.instance if fk == "practice" else data.get("practice")
            mso = self.instance if fk == "mso" else data.get("mso")
            if practice is not None:
                spans.append((practice, data["started_on"], data.get("ended_on"), mso))
        spans.sort(key=lambda s: (s[0].pk or 0, s[0].code, s[1]))
        for a, b in itertools.pairwise(spans):
            same_practice = a[0] is b[0] or (a[0].pk and a[0].pk == b[0].pk)
            if same_practice and (a[2] is None or a[2] >= b[1]):
                clash = Affiliation(practice=a[0], mso=a[3], started_on=a[1], ended_on=a[2])
                raise ValidationError(overlap_message(clash))


class AffiliationInline(admin.TabularInline):
    model = Affiliation
    formset = AffiliationFormSet
    extra = 0
    autocomplete_fields = ["practice", "mso"]


def _affiliation_practice_ids(formset):
    """The practices whose affiliations the formset adds, changes or deletes, before and after
    (an inline on an MSO may move an affiliation to another practice)."""
    ids = set()
    for form in formset.forms:
        if form in formset.deleted_forms or form.has_changed():
            ids.update([form.initial.get("practice"), form.instance.practice_id])
    return ids - {None}


class AffiliationRollupsMixin:
    """Responses count for the MSO their practice had on their day, so saving affiliation
    inlines rebuilds the rollups of the practices concerned, in the admin's transaction."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Affiliation:
            return super().save_formset(request, form, formset, change)
        practice_ids = _affiliation_practice_ids(formset)
        super().save_formset(request, form, formset, change)
        rollups_rebuild_practices(practice_ids=practice_ids)


class MSOServiceInline(admin.TabularInline):
    model = MSOService
    extra = 0


@admin.register(MSO)
class MSOAdmin(SendsEvidenceChanged, AffiliationRollupsMixin, admin.ModelAdmin):
    list_display = [
        "name", "ownership_model", "specialty_focus", "active_practices", "founded_year",
        "published",
    ]
    list_filter = ["published", "ownership_model", "specialty_focus"]
    search_fields = ["name", "specialties", "reported_states"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = [MSOServiceInline, AffiliationInline]

    def get_queryset(self, request):
        today = timezone.localdate()
        return (
            super()
            .get_queryset(request)
            .annotate(
                _active=Count(
                    "affiliations",
                    filter=active_affiliation_q(today),
                )
            )
        )

    @admin.display(description="Active practices", ordering="_active")
    def active_practices(self, obj):
        return obj._active

    # The cascade deletes the MSO's affiliations and its rollup rows; the responses of its
    # practices are then unaffiliated on those days and must be counted so.
    def delete_model(self, request, obj):
        practice_ids = set(obj.affiliations.values_list("practice_id", flat=True))
        super().delete_model(request, obj)
        rollups_rebuild_practices(practice_ids=practice_ids)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            practice_ids = set(
                Affiliation.objects.filter(mso__in=queryset).values_list("practice_id", flat=True)
            )
            super().delete_queryset(request, queryset)
            rollups_rebuild_practices(practice_ids=practice_ids)


class AccreditationInline(admin.TabularInline):
    model = Accreditation
    extra = 0


class QualityDesignationInline(admin.TabularInline):
    model = QualityDesignation
    extra = 0


class PracticeImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"Columns {', '.join(PRACTICE_COLUMNS)} and optionally "
            f"{', '.join(PRACTICE_OPTIONAL_COLUMNS)}; UTF-8; dates YYYY-MM-DD or M/D/YYYY."
        ),
    )


@admin.register(Practice)
class PracticeAdmin(SendsEvidenceChanged, AffiliationRollupsMixin, admin.ModelAdmin):
    list_display = ["code", "name", "city", "state", "surgeons"]
    list_filter = ["state", "affiliations__mso"]
    search_fields = ["code", "name", "city"]
    inlines = [AffiliationInline, AccreditationInline, QualityDesignationInline]
    change_list_template = "admin/partners/practice/change_list.html"

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name="partners_practice_import"), *super().get_urls()]

    def import_view(self, request):
        """Upload a CSV, see what it would change (or every error), then confirm."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import practices",
            "form": PracticeImportForm(),
        }
        if request.method == "POST" and "upload" in request.POST:
            token, file_name = request.POST["upload"], request.POST.get("file_name", "")
            try:
                result = practices_import(data=upload_read(token=token))
            except FileNotFoundError:
                messages.error(request, "That upload has expired; please upload the file again.")
                return redirect("admin:partners_practice_import")
            except ImportRefused as exc:
                # The stored data changed since the preview.
                context.update(errors=exc.errors, file_name=file_name)
            else:
                upload_discard(token=token)
                messages.success(request, f"Imported {file_name}: {result.summary()}")
                return redirect("admin:partners_practice_changelist")
        elif request.method == "POST":
            form = context["form"] = PracticeImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                data = upload.read()
                context["file_name"] = upload.name
                try:
                    context["preview"] = practices_import(data=data, dry_run=True)
                    context["upload"] = upload_stage(data=data)
                except ImportRefused as exc:
                    context["errors"] = exc.errors
        return TemplateResponse(request, "admin/partners/practice/import.html", context)


@admin.register(Affiliation)
class AffiliationAdmin(SendsEvidenceChanged, RebuildsPracticeRollups, admin.ModelAdmin):
    list_display = ["practice", "mso", "started_on", "ended_on"]
    list_filter = ["mso"]
    search_fields = ["practice__code", "practice__name", "mso__name"]
    autocomplete_fields = ["practice", "mso"]
    date_hierarchy = "started_on"



class CurrentFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", "Current"), ("no", "Expired")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(awarded_on__lte=today, expires_on__gte=today)
        if self.value() == "no":
            return queryset.filter(expires_on__lt=today)
        return queryset


@admin.register(Accreditation)
class AccreditationAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = ["practice", "body", "awarded_on", "expires_on"]
    list_filter = [CurrentFilter, "body"]
    search_fields = ["practice__code", "practice__name"]
    autocomplete_fields = ["practice"]


@admin.register(QualityDesignation)
class QualityDesignationAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = ["practice", "name", "awarded_by", "awarded_on", "expires_on"]
    search_fields = ["practice__code", "practice__name", "name", "awarded_by"]
    autocomplete_fields = ["practice"]


# --- Survey files: upload, preview, import, undo ------------------------------------------

SURVEY_JOB_KINDS = ("survey_preview", "survey_import")


def can_upload_surveys(user):
    """Whoever may add survey responses (data admins) may upload survey files."""
    opts = SurveyResponse._meta
    return user.has_perm(f"{opts.app_label}.{get_permission_codename('add', opts)}")


class SurveyUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=(
            f"Columns {', '.join(SURVEY_REQUIRED_COLUMNS)} and optionally "
            f"{', '.join(SURVEY_OPTIONAL_COLUMNS)}, in any order; UTF-8; dates YYYY-MM-DD or "
            "M/D/YYYY; scores 0 to 10."
        ),
    )
    source = forms.CharField(
        max_length=SOURCE_MAX,
        help_text=(
            "The survey vendor or export the file comes from. A response id is imported once "
            "per source: rows whose id was already imported from it are skipped."
        ),
    )


def undo_message(undone):
    return f"{undone.summary()}; the NPS rollups were updated."


@admin.register(SurveyImport)
class SurveyImportAdmin(admin.ModelAdmin):
    """Imports are made by the upload page and undone as a whole; they are never edited."""

    list_display = [
        "number", "file_name", "source", "imported_by", "imported_at", "rows", "skipped",
        "checksum_start",
    ]  # fmt: skip
    list_display_links = ["number", "file_name"]
    list_filter = ["source"]
    list_select_related = ["imported_by"]
    search_fields = ["file_name", "checksum"]
    date_hierarchy = "imported_at"
    fields = [
        "file_name", "source", "imported_by", "imported_at", "rows", "skipped",
        "has_response_ids", "checksum",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["delete_selected"]
    change_list_template = "admin/partners/surveyimport/change_list.html"

    @admin.display(description="Import", ordering="pk")
    def number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description="Checksum (SHA-256)")
    def checksum_start(self, obj):
        return f"{obj.checksum[:12]}…" if obj.checksum else ""

    def has_add_permission(self, request):
        # The add button leads to the upload page (see add_view), never to a model form.
        return can_upload_surveys(request.user)

    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        return self.upload_view(request)

    # Deleting an import undoes it: the responses' counts leave the rollups first (the ORM
    # cascade would delete the responses and leave their counts in the rollups). A million
    # responses take longer than a request may, so a job undoes them and a page follows it.
    def delete_model(self, request, obj):
        request.survey_undo_job = self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        ids = sorted(obj.pk for obj in queryset)
        return job_enqueue(kind="survey_undo", payload={"imports": ids}, user=request.user)

    def response_delete(self, request, obj_display, obj_id):
        return redirect("admin:partners_surveyimport_undo_job", request.survey_undo_job.pk)

    def get_deleted_objects(self, objs, request):
        # The default lists every response of every import: millions of lines.
        objs = list(objs)
        responses = SurveyResponse.objects.filter(survey_import__in=objs).count()
        summary = [f"Survey import {obj}" for obj in objs]
        counts = {"survey imports": len(objs), "survey responses": responses}
        perms_needed = {
            model._meta.verbose_name
            for model in (SurveyResponse, SurveyComment)
            if not request.user.has_perm(
                f"{model._meta.app_label}.{get_permission_codename('delete', model._meta)}"
            )
        }
        return summary, counts, perms_needed, []

    @admin.action(description="Undo selected imports", permissions=["delete"])
    def delete_selected(self, request, queryset):
        """Takes the place of Django's bulk delete, whose cascade would leave the rollups
        wrong; asks for confirmation first, as that one does."""
        _, counts, perms_needed, _ = self.get_deleted_objects(queryset, request)
        if request.POST.get("post"):
            if perms_needed:
                raise PermissionDenied
            self.log_deletions(request, queryset)
            job = self.delete_queryset(request, queryset)
            return redirect("admin:partners_surveyimport_undo_job", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Undo survey imports",
            "opts": self.opts,
            "imports": queryset,
            "counts": counts,
            "perms_lacking": perms_needed,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/partners/surveyimport/undo_confirmation.html", context
        )

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view),
                 name="partners_surveyimport_upload"),
            path("upload/<int:job_id>/", self.admin_site.admin_view(self.upload_job_view),
                 name="partners_surveyimport_upload_job"),
            path("undo/<int:job_id>/", self.admin_site.admin_view(self.undo_job_view),
                 name="partners_surveyimport_undo_job"),
            *super().get_urls(),
        ]  # fmt: skip

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def upload_view(self, request):
        """Upload a survey file: it is staged on disk and checked by a background job."""
        if not can_upload_surveys(request.user):
            raise PermissionDenied
        form = SurveyUploadForm()
        if request.method == "POST":
            form = SurveyUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                payload = {
                    "upload": upload_stage_file(fileobj=upload),
                    "file_name": upload.name,
                    "source": form.cleaned_data["source"].strip(),
                    "user_id": request.user.pk,
                }
                job = job_enqueue(kind="survey_preview", payload=payload, user=request.user)
                return redirect("admin:partners_surveyimport_upload_job", job.pk)
        context = self._context(request, title="Import a survey file", form=form)
        return TemplateResponse(request, "admin/partners/surveyimport/upload.html", context)

    def upload_job_view(self, request, job_id):
        """The check or import of one file: its progress, then its preview, errors or result.

        htmx polls the ``job`` partial every second until the job is finished."""
        if not can_upload_surveys(request.user):
            raise PermissionDenied
        job = get_object_or_404(Job, pk=job_id, kind__in=SURVEY_JOB_KINDS)
        if request.method == "POST":
            return self._confirm(request, job)
        result = job.result or {}
        errors = result.get("errors", [])
        context = self._context(
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
                kind="survey_import", payload__preview_job=job.pk
            ).first() if job.kind == "survey_preview" else None,
        )  # fmt: skip
        template = "admin/partners/surveyimport/upload_job.html"
        if request.htmx:
            template += "#job"
        return TemplateResponse(request, template, context)

    def undo_job_view(self, request, job_id):
        """The undo of some imports: which one is being undone, then what was deleted."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        job = get_object_or_404(Job, pk=job_id, kind="survey_undo")
        result = job.result or {}
        numbers = ", ".join(f"#{pk}" for pk in job.payload["imports"])
        context = self._context(
            request,
            title=f"Undo import{pluralize(job.payload['imports'])} {numbers}",
            job=job,
            undone=[undo_message(UndoneImport(**undone)) for undone in result.get("undone", [])],
            missing=result.get("missing", []),
        )
        template = "admin/partners/surveyimport/undo_job.html"
        if request.htmx:
            template += "#job"
        return TemplateResponse(request, template, context)

    def _confirm(self, request, preview):
        """Queue the import of a file whose preview the data admin has seen."""
        if preview.kind != "survey_preview" or preview.status != JobStatus.SUCCEEDED:
            messages.error(request, "Only a file that passed its check can be imported.")
            return redirect("admin:partners_surveyimport_upload_job", preview.pk)
        with transaction.atomic():
            # Locked, so that a double click queues one import, not two.
            preview = Job.objects.select_for_update().get(pk=preview.pk)
            job = Job.objects.filter(kind="survey_import", payload__preview_job=preview.pk).first()
            if job is None:
                if not upload_exists(token=preview.payload["upload"]):
                    messages.error(request, UPLOAD_EXPIRED)
                    return redirect("admin:partners_surveyimport_upload")
                payload = {
                    "upload": preview.payload["upload"],
                    "file_name": preview.payload["file_name"],
                    "source": preview.payload["source"],
                    "user_id": request.user.pk,
                    "preview_job": preview.pk,
                }
                job = job_enqueue(kind="survey_import", payload=payload, user=request.user)
        return redirect("admin:partners_surveyimport_upload_job", job.pk)


@admin.register(SurveyResponse)
class SurveyResponseAdmin(SendsEvidenceChanged, RebuildsPracticeRollups, admin.ModelAdmin):
    # No comment text here: comments live apart, in the SurveyComment admin.
    list_display = ["practice", "responded_on", "score", "source", "response_id"]
    list_filter = ["source", "score"]
    list_select_related = ["practice"]
    search_fields = ["practice__code", "response_id"]
    autocomplete_fields = ["practice"]
    raw_id_fields = ["survey_import"]
    date_hierarchy = "responded_on"
    # Counting ten million rows on every page load is not worth it.
    show_full_result_count = False
    change_list_template = "admin/partners/surveyresponse/change_list.html"



@admin.register(SurveyComment)
class SurveyCommentAdmin(admin.ModelAdmin):
    list_display = ["response", "text"]
    raw_id_fields = ["response"]


@admin.register(AggregateNPSSubmission)
class AggregateNPSSubmissionAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = [
        "__str__", "period_start", "period_end", "promoters", "passives", "detractors",
        "provenance",
    ]
    list_filter = ["provenance", "mso"]
    search_fields = ["mso__name", "practice__code", "practice__name", "source"]
    autocomplete_fields = ["practice", "mso"]


class PromiseItemInline(admin.TabularInline):
    model = PromiseItem
    extra = 1


@admin.register(ReferenceInterview)
class ReferenceInterviewAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = [
        "interviewee", "mso", "interviewed_on", "provenance", "trust", "would_choose_again",
        "autonomy", "consent_to_quote",
    ]
    list_filter = ["provenance", "would_choose_again", "consent_to_quote", "mso"]
    search_fields = ["interviewee", "interviewer", "mso__name", "practice__name"]
    autocomplete_fields = ["mso", "practice"]
    date_hierarchy = "interviewed_on"
    inlines = [PromiseItemInline]
    fieldsets = [
        (None, {"fields": [
            "mso", "practice", "interviewee", "years_affiliated", "provenance",
            "consent_to_quote", "interviewer", "interviewed_on",
        ]}),
        ("The article's questions", {"fields": [
            "promised", "delivered", "trust", "would_choose_again", "advice", "autonomy",
        ]}),
    ]  # fmt: skip

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Claim)
class ClaimAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = ["mso", "statement", "kind", "stated_on"]
    list_filter = ["kind", "mso"]
    search_fields = ["statement", "mso__name", "source"]
    autocomplete_fields = ["mso"]


@admin.register(Benchmark)
class BenchmarkAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = ["name", "kind", "value", "source", "year"]
    list_filter = ["kind", "year"]
    search_fields = ["name", "key", "source"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "progress", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request):
        return False
