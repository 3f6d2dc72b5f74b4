import itertools

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, RelatedFieldWidgetWrapper
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import InvalidPage
from django.db import models
from django.db.models import Count, F, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from . import form_renderer, services, tasks
from .csvfiles import ImportRefused
from .forms import BoundedJSONField, PracticeImportForm
from .jobs import job_enqueue
from .models import (
    MSO,
    SURVEY_UNDO,
    Accreditation,
    Affiliation,
    AggregateNPSSubmission,
    Benchmark,
    Claim,
    Job,
    MSOService,
    Practice,
    PromiseItem,
    QualityDesignation,
    ReferenceInterview,
    SurveyComment,
    SurveyImport,
    SurveyMapping,
    SurveyResponse,
    overlap_message,
)
from .paginators import COUNT_VAR, EstimatedCountPaginator
from .practice_import import practices_import
from .selectors import active_affiliation_q, silent_practice_q
from .signals import evidence_changed
from .surveys.views import can_upload_surveys, survey_upload
from .uploads import (
    UPLOAD_EXPIRED,
    upload_discard,
    upload_read,
    upload_refusals_to_form,
    upload_stage,
)


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


class EstimatedChangeList(ChangeList):
    def get_results(self, request):
        super().get_results(request)
        if self.paginator.estimated:
            # The estimate may be short of the real number: the page is always a LIMIT.
            self.can_show_all = False
            try:
                self.result_list = self.paginator.page(self.page_num).object_list
            except InvalidPage:  # as Django's own list answers a page past the last
                raise IncorrectLookupParameters from None


class ListWithoutScans:
    """An admin list over a table of millions of rows is a LIMIT over an index: no exact
    count unless asked for (see partners.paginators), no year links, no filter whose
    choices are read from the table, no column sorting that would sort the whole table,
    and a search of exact values on indexed columns (``get_search_results``)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    sortable_by = ()
    ordering = ["-pk"]

    def get_changelist(self, request, **kwargs):
        return EstimatedChangeList

    def changelist_view(self, request, extra_context=None):
        # ?count=exact is the paginator's, not a filter: the change list must not see it.
        request.GET = request.GET.copy()
        request.count_exactly = request.GET.pop(COUNT_VAR, None) == ["exact"]
        return super().changelist_view(request, extra_context)

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        params = request.GET.copy()
        params[COUNT_VAR] = "exact"
        return self.paginator(
            queryset, per_page, orphans, allow_empty_first_page,
            exact=getattr(request, "count_exactly", False), exact_url=f"?{params.urlencode()}",
        )  # fmt: skip

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(self.search_q(term)), False

    def get_ordering(self, request):
        """Newest first. A search's matches (few: exact values) are found through their
        indexes, then sorted: ordered by the bare id, PostgreSQL walks the primary key of each
        partition backwards, filtering, until it has a page, which for a practice with few
        responses means every row of ten million (1.3 s, bench/admin.py)."""
        if request.GET.get(SEARCH_VAR, "").strip():
            return [(F("pk") + 0).desc()]
        return super().get_ordering(request)


def response_q(term, prefix=""):
    """Responses matching ``term`` exactly: a practice code, a response id (through the
    (source, response id) index, with the sources of the imports) or an import number.

    The practice and the sources are read first (two small queries) so that the search is
    one OR of literal values, which PostgreSQL answers from the three indexes; with
    subqueries in the OR it walks the whole table instead."""
    practices = list(Practice.objects.filter(code=term).values_list("pk", flat=True))
    sources = [*SurveyImport.objects.values_list("source", flat=True).distinct(), ""]
    q = Q(**{f"{prefix}practice__in": practices}) | Q(
        **{f"{prefix}source__in": sources, f"{prefix}response_id": term}
    )
    number = term.removeprefix("#")
    if number.isdigit():
        q |= Q(**{f"{prefix}survey_import_id": int(number)})
    return q


class AffiliationFormSet(forms.BaseInlineFormSet):
    """Refuse overlaps between rows of the same form, which clean() cannot see."""

    def _construct_form(self, i, **kwargs):
        form = super()._construct_form(i, **kwargs)
        for name in ("practice", "mso"):
            field = form.fields.get(name)
            widget = getattr(field, "widget", None)
            widget = getattr(widget, "widget", widget)  # inside the related-object links
            if isinstance(widget, LoadedAutocomplete) and getattr(form.instance, f"{name}_id"):
                related = getattr(form.instance, name)
                widget.loaded = (str(related.pk), field.label_from_instance(related))
        return form

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


class LoadedAutocomplete(AutocompleteSelect):
    """Shows the chosen practice or MSO of a row from the row's own object (the inline
    loads them with its rows), instead of one query per row and field."""

    loaded = None  # (value, label) of the object the row already holds

    def optgroups(self, name, value, attr=None):
        chosen = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if self.loaded is None or chosen != [self.loaded[0]]:
            return super().optgroups(name, value, attr)
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        options.append(self.create_option(name, *self.loaded, set(chosen), len(options)))
        return [(None, options, 0)]


class WidgetsInPython:
    """An inline whose widgets are written by ``partners.form_renderer`` (the same HTML as
    Django's templates, at a fraction of the time): for inlines with a row per affiliation or
    service, which made most of an MSO's change page."""

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, renderer=form_renderer.renderer, **kwargs)


class AffiliationInline(WidgetsInPython, admin.TabularInline):
    model = Affiliation
    formset = AffiliationFormSet
    extra = 0
    autocomplete_fields = ["practice", "mso"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("practice", "mso")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.autocomplete_fields:
            kwargs["widget"] = LoadedAutocomplete(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # No add, change, delete and view links beside each row's practice or MSO: the page
        # has a row per affiliation, and those links were most of its weight.
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if isinstance(getattr(formfield, "widget", None), RelatedFieldWidgetWrapper):
            formfield.widget = formfield.widget.widget
        return formfield


class AffiliationInlinesKeepRollups:
    """Affiliation inlines (on an MSO or a practice) are saved through the service that
    keeps the rollups exact."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not Affiliation:
            return super().save_formset(request, form, formset, change)
        saved = formset.save(commit=False)
        services.affiliations_save(saved=saved, deleted=formset.deleted_objects)


class MSOServiceInline(WidgetsInPython, admin.TabularInline):
    model = MSOService
    extra = 0
    # What the MSO says about a service is a sentence: a one-line input keeps the table
    # within the page (a text area per row made it wider than a 1280 px screen).
    formfield_overrides = {
        models.TextField: {"widget": forms.TextInput(attrs={"class": "vTextField"})}
    }

    def get_queryset(self, request):
        # Each row's heading is the service's name, which names its MSO.
        return super().get_queryset(request).select_related("mso")


@admin.register(MSO)
class MSOAdmin(SendsEvidenceChanged, AffiliationInlinesKeepRollups, admin.ModelAdmin):
    list_display = [
        "name", "ownership_model", "specialty_focus", "active_practices", "founded_year",
        "published",
    ]
    list_filter = ["published", "ownership_model", "specialty_focus"]
    search_fields = ["name", "specialties", "reported_states"]
    prepopulated_fields = {"slug": ["name"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    # Comma-separated lists of up to 300 characters: one wide line each.
    widgets = {
        name: forms.TextInput(attrs={"class": "vLargeTextField"})
        for name in ("specialties", "reported_states")
    }
    inlines = [MSOServiceInline, AffiliationInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.widgets:
            kwargs["widget"] = self.widgets[db_field.name]
        return super().formfield_for_dbfield(db_field, request, **kwargs)

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

    def delete_model(self, request, obj):
        services.msos_delete(queryset=MSO.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.msos_delete(queryset=queryset)


class AccreditationInline(admin.TabularInline):
    model = Accreditation
    extra = 0


class QualityDesignationInline(admin.TabularInline):
    model = QualityDesignation
    extra = 0


class SilentPracticesFilter(admin.SimpleListFilter):
    """Practices with an MSO today and no survey response this year: the admin's first page
    counts them and links here for all of them. Read from the rollups, never the responses."""

    title = "survey responses this year"
    parameter_name = "responses_this_year"

    def lookups(self, request, model_admin):
        return [("none", "None, with an MSO today")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(silent_practice_q(timezone.localdate()))
        return queryset


@admin.register(Practice)
class PracticeAdmin(SendsEvidenceChanged, AffiliationInlinesKeepRollups, admin.ModelAdmin):
    list_display = ["code", "name", "city", "state", "surgeons"]
    list_filter = [SilentPracticesFilter, "state", "affiliations__mso"]
    search_fields = ["code", "name", "city"]
    inlines = [AffiliationInline, AccreditationInline, QualityDesignationInline]
    change_list_template = "admin/partners/practice/change_list.html"

    def delete_model(self, request, obj):
        services.practices_delete(queryset=Practice.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.practices_delete(queryset=queryset)

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
                messages.error(request, UPLOAD_EXPIRED)
                return redirect("admin:partners_practice_import")
            except ImportRefused as exc:
                # The stored data changed since the preview: the file must be uploaded again.
                upload_discard(token=token)
                context.update(errors=exc.errors, file_name=file_name)
            else:
                upload_discard(token=token)
                messages.success(request, f"Imported {file_name}: {result.summary()}")
                return redirect("admin:partners_practice_changelist")
        elif request.method == "POST":
            form = context["form"] = PracticeImportForm(request.POST, request.FILES)
            upload_refusals_to_form(request, form)
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
class AffiliationAdmin(ListWithoutScans, SendsEvidenceChanged, admin.ModelAdmin):
    list_display = ["practice", "mso", "started_on", "ended_on"]
    list_filter = ["mso"]
    list_select_related = ["practice", "mso"]
    search_fields = ["practice__code"]  # see search_q
    search_help_text = "A practice code, or part of a practice's or an MSO's name."
    autocomplete_fields = ["practice", "mso"]

    def search_q(self, term):
        # The practices and MSOs are searched in their own (small) tables.
        practices = Practice.objects.filter(Q(code=term) | Q(name__icontains=term))
        return Q(practice__in=practices.values("pk")) | Q(
            mso__in=MSO.objects.filter(name__icontains=term).values("pk")
        )

    def save_model(self, request, obj, form, change):
        services.affiliations_save(saved=[obj])

    def delete_model(self, request, obj):
        services.affiliations_save(deleted=[obj])

    def delete_queryset(self, request, queryset):
        services.affiliations_delete(queryset=queryset)


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
        return survey_upload(request)

    # Deleting an import undoes it: the responses' counts leave the rollups first (the ORM
    # cascade would delete the responses and leave their counts in the rollups). A million
    # responses take longer than a request may, so a job undoes them and a page follows it.
    def delete_model(self, request, obj):
        request.survey_undo_job = self.delete_queryset(request, [obj])

    def delete_queryset(self, request, queryset):
        ids = sorted(obj.pk for obj in queryset)
        return job_enqueue(task=tasks.survey_undo, kind=SURVEY_UNDO, payload={"imports": ids},
                           user=request.user)  # fmt: skip

    def response_delete(self, request, obj_display, obj_id):
        return redirect("survey_undo_job", request.survey_undo_job.pk)

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
            return redirect("survey_undo_job", job.pk)
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


class ChoicesNotReadFromTheList(admin.SimpleListFilter):
    """A filter whose choices come from elsewhere than the rows listed (a small table, or a
    fixed range), unlike Django's field filters, which read them with a DISTINCT over the
    whole list; a choice keeps the rows whose ``field`` (by default the parameter's name)
    equals it."""

    field = None

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.field or self.parameter_name: self.value()})


class SourceFilter(ChoicesNotReadFromTheList):
    """The sources of the imports (a small table), not of ten million responses."""

    title = "source"
    parameter_name = "source"

    def lookups(self, request, model_admin):
        sources = SurveyImport.objects.order_by("source").values_list("source", flat=True)
        return [(source, source) for source in sources.distinct()]


class ScoreFilter(ChoicesNotReadFromTheList):
    title = "score"
    parameter_name = "score"

    def lookups(self, request, model_admin):
        return [(str(score), str(score)) for score in range(11)]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ListWithoutScans, SendsEvidenceChanged, admin.ModelAdmin):
    # No comment text here: comments live apart, in the SurveyComment admin.
    list_display = ["practice", "responded_on", "score", "source", "response_id"]
    list_filter = [SourceFilter, ScoreFilter]
    list_select_related = ["practice"]
    search_fields = ["practice__code"]  # see response_q
    search_help_text = "A practice code, a response id or an import number (#12)."
    autocomplete_fields = ["practice"]
    raw_id_fields = ["survey_import"]
    change_list_template = "admin/partners/surveyresponse/change_list.html"
    search_q = staticmethod(response_q)

    def save_model(self, request, obj, form, change):
        services.survey_response_save(response=obj)

    def delete_model(self, request, obj):
        services.survey_responses_delete(queryset=SurveyResponse.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.survey_responses_delete(queryset=queryset)


@admin.register(SurveyComment)
class SurveyCommentAdmin(ListWithoutScans, admin.ModelAdmin):
    list_display = ["response", "text"]
    list_select_related = ["response__practice"]
    raw_id_fields = ["response"]
    search_fields = ["response__practice__code"]  # see response_q
    search_help_text = "A practice code, a response id or an import number (#12)."

    def search_q(self, term):
        return response_q(term, prefix="response__")


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
    formfield_overrides = {models.JSONField: {"form_class": BoundedJSONField}}


@admin.register(Benchmark)
class BenchmarkAdmin(SendsEvidenceChanged, admin.ModelAdmin):
    list_display = ["name", "kind", "value", "source", "year"]
    list_filter = ["kind", "year"]
    search_fields = ["name", "key", "source"]


@admin.register(SurveyMapping)
class SurveyMappingAdmin(admin.ModelAdmin):
    """The column mappings the survey upload saved and offers next time: read and deleted
    here (a deleted one is simply not offered), made and replaced only by confirming an
    import, so that a mapping always names columns a real file had."""

    list_display = ["tool", "practice", "score_column", "date_column", "id_column",
                    "practice_column", "time_zone", "saved_by", "saved_at"]  # fmt: skip
    list_filter = ["tool"]
    search_fields = ["practice__code", "practice__name", "score_column", "date_column"]
    list_select_related = ["practice", "saved_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "status", "progress", "created_by", "created_at"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in Job._meta.fields]

    def has_add_permission(self, request):
        return False


class AuditedModelFilter(ChoicesNotReadFromTheList):
    """The audited models, from the registry rather than from the entries."""

    title = "record type"
    parameter_name = "resource_type"
    field = "content_type_id"

    def lookups(self, request, model_admin):
        types = ContentType.objects.get_for_models(*auditlog.get_models()).values()
        return sorted(((t.pk, t.name) for t in types), key=lambda choice: choice[1])


# django-auditlog's own admin (read-only: nobody adds, changes or deletes an entry) with
# the list made for millions of entries.
admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class AuditLogAdmin(ListWithoutScans, LogEntryAdmin):
    date_hierarchy = None
    list_filter = ["action", AuditedModelFilter]
    search_fields = ["object_pk"]  # see search_q
    search_help_text = "A record's id, a username, or a correlation id."

    def search_q(self, term):
        users = get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: term})
        return Q(object_pk=term) | Q(actor__in=users.values("pk")) | Q(cid=term)
