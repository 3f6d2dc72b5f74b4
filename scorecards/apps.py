from django.apps import AppConfig


class ScorecardsConfig(AppConfig):
    name = "scorecards"

    def ready(self):
        from partners.services import JOB_HANDLERS

        from .services import COMPUTE_KIND, run_compute_job

        # partners runs every background job; scorecards adds its own kind.
        JOB_HANDLERS[COMPUTE_KIND] = run_compute_job
