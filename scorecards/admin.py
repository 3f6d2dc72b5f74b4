from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .models import Methodology, MethodologyCriterion, MsoScorecard, ScorecardSnapshot
from .services import methodology_new_version, methodology_publish, weights_problem


class CriterionFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        weights = [
            f.cleaned_data["weight"]
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and "weight" in f.cleaned_data
        ]
        problem = weights_problem(weights)
        if problem:
            raise ValidationError(problem)


class CriterionInline(admin.TabularInline):
    model = MethodologyCriterion
    formset = CriterionFormSet
    extra = 0
    fields = ["key", "weight", "definition"]
    readonly_fields = ["definition"]

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and not (obj and obj.published)

    has_add_permission = has_delete_permission = has_change_permission


@admin.register(Methodology)
class MethodologyAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "published", "published_at", "total_weight"]
    list_filter = ["published"]
    inlines = [CriterionInline]
    actions = ["new_version", "publish"]
    readonly_fields = ["version", "published", "published_at"]

    @admin.display(description="Sum of weights")
    def total_weight(self, obj):
        return sum(c.weight for c in obj.criteria.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("criteria")

    def has_change_permission(self, request, obj=None):
        # A published version is frozen: change it by creating the next version.
        return super().has_change_permission(request, obj) and not (obj and obj.published)

    def save_model(self, request, obj, form, change):
        if not change:
            latest = Methodology.objects.filter(name=obj.name).order_by("-version").first()
            obj.version = latest.version + 1 if latest else 1
        super().save_model(request, obj, form, change)

    @admin.action(description="Create a new draft version from the selected methodology")
    def new_version(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one methodology.", messages.ERROR)
            return
        draft = methodology_new_version(methodology=queryset.get())
        self.message_user(request, f"Created {draft}; edit its weights, then publish it.")

    @admin.action(description="Publish the selected drafts")
    def publish(self, request, queryset):
        for methodology in queryset.filter(published=False):
            try:
                methodology_publish(methodology=methodology)
            except ValidationError as exc:
                self.message_user(request, f"{methodology}: {exc.messages[0]}", messages.ERROR)
            else:
                self.message_user(request, f"Published {methodology}; scorecards will follow.")


class ScorecardInline(admin.TabularInline):
    model = MsoScorecard
    fields = ["mso", "rank", "total", "coverage", "rank_stability"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ScorecardSnapshot)
class ScorecardSnapshotAdmin(admin.ModelAdmin):
    list_display = ["__str__", "data_as_of", "computed_at", "methodology", "query_count"]
    readonly_fields = ["methodology", "data_as_of", "computed_at", "fingerprint", "job",
                       "query_count"]  # fmt: skip
    inlines = [ScorecardInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # Snapshots are immutable records of what was shown: nobody deletes them.
        return False


# ShortlistEntry, ChecklistAnswer and SurgeonPriorities are deliberately not registered: a
# surgeon's shortlist, notes, checklist answers and priorities are that surgeon's private working
# notes about MSOs; no other role, data admins included, has any reason to read them.
