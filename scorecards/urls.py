from django.urls import path

from . import views

urlpatterns = [
    path("msos/", views.directory, name="directory"),
    path("msos/priorities", views.directory_priorities_save, name="directory_priorities"),
    path("msos/<slug:slug>/", views.mso_profile, name="mso_profile"),
    path("msos/<slug:slug>/years/<int:year>/", views.mso_year, name="mso_year"),
    path("msos/<slug:slug>/interviews/", views.mso_interviews, name="mso_interviews"),
    path("compare/", views.compare, name="compare"),
    path("compare/priorities", views.priorities_save, name="priorities_save"),
    path("scorecards/", views.scorecard, name="scorecard"),
    path("scorecards/recompute", views.recompute, name="scorecard_recompute"),
    path("scorecards/jobs/<int:pk>", views.compute_job, name="scorecard_job"),
    path("api/scorecards/latest.json", views.api_latest, name="api_scorecards_latest"),
    path("shortlist/", views.shortlist_page, name="shortlist"),
    path("shortlist/add", views.shortlist_entry_add, name="shortlist_add"),
    path("shortlist/<int:pk>/remove", views.shortlist_entry_remove, name="shortlist_remove"),
    path("shortlist/<int:pk>/note", views.shortlist_entry_note, name="shortlist_note"),
    path("shortlist/<int:pk>/checklist/<slug:item>", views.shortlist_entry_checklist,
         name="shortlist_checklist"),
]
