from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("interviews/", views.interview_list, name="interview_list"),
    path("interviews/new", views.interview_create, name="interview_create"),
    path("interviews/practices", views.interview_practice_options, name="interview_practices"),
    path("interviews/<int:pk>/", views.interview_edit, name="interview_edit"),
    path("interviews/<int:pk>/read", views.interview_detail, name="interview_detail"),
    path("interviews/<int:pk>/delete", views.interview_delete, name="interview_delete"),
    # Data admins' pages in the admin's look (and under its URL prefix).
    path("admin/partners/surveyimport/upload/", admin.site.admin_view(views.survey_upload),
         name="survey_upload"),
    path("admin/partners/surveyimport/upload/columns/",
         admin.site.admin_view(views.survey_upload_columns), name="survey_upload_columns"),
    path("admin/partners/surveyimport/upload/<int:job_id>/",
         admin.site.admin_view(views.survey_upload_job), name="survey_upload_job"),
    path("admin/partners/surveyimport/undo/<int:job_id>/",
         admin.site.admin_view(views.survey_undo_job), name="survey_undo_job"),
]  # fmt: skip
