from django.urls import path

from . import roles_admin, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/roles/", roles_admin.user_roles, name="user_roles"),
    path("interviews/", views.interview_list, name="interview_list"),
    path("interviews/new", views.interview_create, name="interview_create"),
    path("interviews/practices", views.interview_practice_options, name="interview_practices"),
    path("interviews/<int:pk>/", views.interview_edit, name="interview_edit"),
    path("interviews/<int:pk>/read", views.interview_detail, name="interview_detail"),
    path("interviews/<int:pk>/delete", views.interview_delete, name="interview_delete"),
]
