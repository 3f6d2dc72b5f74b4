from django.apps import AppConfig
from django.conf import settings


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self):
        from partners.signals import evidence_changed

        evidence_changed.connect(_recompute_soon, dispatch_uid="scorecards.recompute")
        from partners.audit import audit_register

        audit_register(self.get_model("Methodology"), self.get_model("MethodologyCriterion"))
        # Jobs are sent by their task's name: every process (web, commands, worker) knows it.
        from . import tasks  # noqa: F401


def _recompute_soon(**kwargs):
    from .services import scorecards_request_recompute

    if settings.SCORECARDS_AUTO_RECOMPUTE:
        scorecards_request_recompute()
