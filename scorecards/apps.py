from django.apps import AppConfig
from django.conf import settings


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self):
        from partners.services import JOB_HANDLERS
        from partners.signals import evidence_changed

        from .services import COMPUTE_KIND, run_compute_job

        # partners runs every background job; scorecards adds its own kind.
        JOB_HANDLERS[COMPUTE_KIND] = run_compute_job
        evidence_changed.connect(_recompute_soon, dispatch_uid="scorecards.recompute")


def _recompute_soon(**kwargs):
    from .services import scorecards_request_recompute

    if settings.SCORECARDS_AUTO_RECOMPUTE:
        scorecards_request_recompute()
