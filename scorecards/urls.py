from django.urls import path

from . import views

urlpatterns = [
    path("scorecards/", views.scorecard, name="scorecard"),
    path("scorecards/recompute", views.recompute, name="scorecard_recompute"),
    path("scorecards/jobs/<int:pk>", views.compute_job, name="scorecard_job"),
    path("api/scorecards/latest.json", views.api_latest, name="api_scorecards_latest"),
]
