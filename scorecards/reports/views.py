"""The consultants' report pages: the builder, a report's status and download, the history."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_POST

from partners.audit import audit_report
from partners.jobs import job_followed
from partners.models import ConsultantProfile, consultant_signature

from ..models import MsoScorecard, Report
from .content import weights_caption
from .forms import ConsultantProfileForm, ReportForm
from .services import (
    ReportRefused,
    can_make_reports,
    report_create,
    report_retry,
    snapshots_for_reports,
)

HISTORY_PAGE_SIZE = 50


def _require_consultant(user):
    if not can_make_reports(user):
        raise PermissionDenied


def _report_for_user(request, pk):
    """The user's own report: anybody else's answers 404, as if it did not exist."""
    _require_consultant(request.user)
    return get_object_or_404(Report.objects.select_related("job", "snapshot"), pk=pk,
                             created_by=request.user)  # fmt: skip


def _builder_form(request, snapshots):
    latest = snapshots.first()
    # The MSOs of the chosen snapshot (the posted one, else the latest), by name.
    chosen = latest
    posted = request.POST.get("snapshot", "") if request.method == "POST" else ""
    if posted.isascii() and posted.isdigit() and len(posted) < 19:  # a bigint, not 5,000 digits
        chosen = snapshots.filter(pk=int(posted)).first() or latest
    choices = list(
        MsoScorecard.objects.filter(snapshot=chosen).order_by("mso__name")
        .values_list("mso__slug", "mso__name")
    )  # fmt: skip
    name, firm = consultant_signature(request.user)
    return ReportForm(request.POST or None, snapshots=snapshots, mso_choices=choices,
                      methodology_weights=chosen.methodology.weights(),
                      initial={"msos": request.GET.getlist("m"), "prepared_by": name,
                               "firm": firm})  # fmt: skip


def report_new(request):
    _require_consultant(request.user)
    snapshots = snapshots_for_reports()
    if not snapshots.exists():
        return render(request, "reports/new.html", {"form": None})
    form = _builder_form(request, snapshots)
    if request.method == "POST" and form.is_valid():
        try:
            report = report_create(user=request.user, **form.report_inputs())
        except ReportRefused as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("report_detail", pk=report.pk)
    # A TemplateResponse, so that a form given back with errors is logged (RefusedFormsLogged).
    return TemplateResponse(request, "reports/new.html", {"form": form})


def _names(report):
    facts = (report.facts or {}).get("msos", {})
    return [facts.get(slug, {}).get("name", slug) for slug in report.msos]


@require_GET
def report_detail(request, pk):
    report = _report_for_user(request, pk)
    if report.job:
        job_followed(report.job)
    context = {"report": report, "names": _names(report)}
    template = "reports/detail.html#status" if request.htmx else "reports/detail.html"
    return render(request, template, context)


@require_GET
def report_download(request, pk):
    report = _report_for_user(request, pk)
    if not report.is_done:
        raise Http404("This report has no PDF yet.")
    audit_report(user=request.user, obj=report, event="downloaded", file=report.download_name)
    return FileResponse(report.file.open("rb"), as_attachment=True,
                        filename=report.download_name, content_type="application/pdf")


@require_POST
def report_retry_view(request, pk):
    report = _report_for_user(request, pk)
    if report.status == "failed":
        report_retry(report=report)
    return redirect("report_detail", pk=report.pk)


@require_GET
def report_history(request):
    _require_consultant(request.user)
    reports = list(
        Report.objects.filter(created_by=request.user)
        .select_related("job", "snapshot__methodology")[:HISTORY_PAGE_SIZE]
    )  # fmt: skip
    published = {}  # methodology id -> its weights, read once each
    for report in reports:
        report.names = _names(report)
        methodology = report.snapshot.methodology
        if methodology.pk not in published:
            published[methodology.pk] = methodology.weights()
        report.weights_used = weights_caption(
            custom=report.weights != published[methodology.pk], name=methodology.name,
            version=methodology.version)  # fmt: skip
    return render(request, "reports/history.html", {"reports": reports})


def consultant_profile(request):
    """The consultant's name and firm, as their reports are signed by default."""
    _require_consultant(request.user)
    name, firm = consultant_signature(request.user)
    profile = ConsultantProfile.objects.filter(user=request.user).first()
    form = ConsultantProfileForm(request.POST or None, instance=profile,
                                 initial={"display_name": name, "firm": firm})  # fmt: skip
    if request.method == "POST" and form.is_valid():
        profile = form.save(commit=False)
        profile.user = request.user
        profile.save()
        messages.success(request, f"Your reports are now prepared by {profile}.")
        return redirect("report_history")
    return TemplateResponse(request, "reports/profile.html", {"form": form})

