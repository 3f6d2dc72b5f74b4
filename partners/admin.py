import itertools

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count
from django.shortcuts import redirect
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
from .selectors import active_affiliation_q
from .services import (
    PRACTICE_COLUMNS,
    PRACTICE_OPTIONAL_COLUMNS,
    ImportRefused,
    practices_import,
    upload_discard,
    upload_read,
    upload_stage,
)


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


class MSOServiceInline(admin.TabularInline):
    model = MSOService
    extra = 0


@admin.register(MSO)
class MSOAdmin(admin.ModelAdmin):
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
class PracticeAdmin(admin.ModelAdmin):
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
class AffiliationAdmin(admin.ModelAdmin):
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
class AccreditationAdmin(admin.ModelAdmin):
    list_display = ["practice", "body", "awarded_on", "expires_on"]
    list_filter = [CurrentFilter, "body"]
    search_fields = ["practice__code", "practice__name"]
    autocomplete_fields = ["practice"]


@admin.register(QualityDesignation)
class QualityDesignationAdmin(admin.ModelAdmin):
    list_display = ["practice", "name", "awarded_by", "awarded_on", "expires_on"]
    search_fields = ["practice__code", "practice__name", "name", "awarded_by"]
    autocomplete_fields = ["practice"]


@admin.register(SurveyImport)
class SurveyImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "source", "rows", "imported_by", "imported_at"]
    list_filter = ["source"]
    search_fields = ["file_name", "checksum"]
    readonly_fields = ["imported_at"]


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ["practice", "responded_on", "score", "source", "response_id"]
    list_filter = ["source", "score"]
    search_fields = ["practice__code", "response_id"]
    autocomplete_fields = ["practice"]
    raw_id_fields = ["survey_import"]
    date_hierarchy = "responded_on"
    # Counting ten million rows on every page load is not worth it.
    show_full_result_count = False


@admin.register(SurveyComment)
class SurveyCommentAdmin(admin.ModelAdmin):
    list_display = ["response", "text"]
    raw_id_fields = ["response"]


@admin.register(AggregateNPSSubmission)
class AggregateNPSSubmissionAdmin(admin.ModelAdmin):
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
class ReferenceInterviewAdmin(admin.ModelAdmin):
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
class ClaimAdmin(admin.ModelAdmin):
    list_display = ["mso", "statement", "kind", "stated_on"]
    list_filter = ["kind", "mso"]
    search_fields = ["statement", "mso__name", "source"]
    autocomplete_fields = ["mso"]


@admin.register(Benchmark)
class BenchmarkAdmin(admin.ModelAdmin):
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
