from django.urls import path

from . import views

urlpatterns = [
    path("", views.report_history, name="report_history"),
    path("new", views.report_new, name="report_new"),
    path("profile", views.consultant_profile, name="consultant_profile"),
    path("<int:pk>/", views.report_detail, name="report_detail"),
    path("<int:pk>/download", views.report_download, name="report_download"),
    path("<int:pk>/retry", views.report_retry_view, name="report_retry"),
]
