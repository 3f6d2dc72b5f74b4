from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from .forms import LoginForm

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password change (logs out the account's other sessions) and reset by e-mail.
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/changed", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/sent", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("password/reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("password/reset/done", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    # Before the admin: the survey file pages live under admin/.
    path("", include("partners.urls")),
    path("", include("partners.surveys.urls")),
    path("admin/", admin.site.urls),
    path("", include("scorecards.urls")),
    path("reports/", include("scorecards.reports.urls")),
]
