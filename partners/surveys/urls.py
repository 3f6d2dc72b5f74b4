"""The survey file pages, under the admin's URL prefix and in its look (staff only)."""

from django.contrib import admin
from django.urls import path

from . import views

urlpatterns = [
    path("admin/partners/surveyimport/upload/", admin.site.admin_view(views.survey_upload),
         name="survey_upload"),
    path("admin/partners/surveyimport/upload/columns/",
         admin.site.admin_view(views.survey_upload_columns), name="survey_upload_columns"),
    path("admin/partners/surveyimport/upload/<int:job_id>/",
         admin.site.admin_view(views.survey_upload_job), name="survey_upload_job"),
    path("admin/partners/surveyimport/undo/<int:job_id>/",
         admin.site.admin_view(views.survey_undo_job), name="survey_undo_job"),
]  # fmt: skip
