from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from partners.jobs import jobs_sweep
from partners.models import Job
from partners.roles import DATA_ADMIN, user_has_role

from . import services
from .models import CRITERION_CHOICES, CRITERION_DEFINITIONS


def _criteria_columns(snapshot):
    weights = snapshot.methodology.weights()
    labels = dict(CRITERION_CHOICES)
    return [
        {"key": key, "label": labels[key], "weight": weight,
         "definition": CRITERION_DEFINITIONS[key]}
        for key, weight in weights.items()
    ]  # fmt: skip


def scorecard(request):
    snapshot = services.latest_snapshot()
    context = {
        "snapshot": snapshot,
        "can_recompute": user_has_role(request.user, DATA_ADMIN),
        "job": services.latest_compute_job(),
    }
    if snapshot:
        document = services.snapshot_document(snapshot)
        context.update(msos=document["msos"], criteria=_criteria_columns(snapshot))
    return render(request, "scorecards/scorecard.html", context)


@require_POST
def recompute(request):
    if not user_has_role(request.user, DATA_ADMIN):
        raise PermissionDenied
    job = services.scorecards_recompute_now(user=request.user)
    job.refresh_from_db()  # a broker that refused the message has failed it
    if request.htmx:
        return render(request, "scorecards/scorecard.html#job", {"job": job})
    return redirect("scorecard")


@require_GET
def compute_job(request, pk):
    job = get_object_or_404(Job, pk=pk, kind=services.COMPUTE_KIND)
    if not job.is_finished:
        jobs_sweep()
        job.refresh_from_db()
    return render(request, "scorecards/scorecard.html#job", {"job": job})


@login_not_required
@require_GET
def api_latest(request):
    if not request.user.is_authenticated:
        return JsonResponse({"error": "Log in to read the scorecards."}, status=401)
    snapshot = services.latest_snapshot()
    if snapshot is None:
        return JsonResponse({"error": "No snapshot has been computed yet."}, status=404)
    return JsonResponse(services.snapshot_document(snapshot))
