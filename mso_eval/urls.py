from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

admin.site.site_header = "MSO Evaluator data admin"
admin.site.site_title = "MSO Evaluator"

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Before the admin: partners routes a few pages of its own under admin/.
    path("", include("partners.urls")),
    path("admin/", admin.site.urls),
    path("", include("scorecards.urls")),
    path("reports/", include("scorecards.reports.urls")),
]
