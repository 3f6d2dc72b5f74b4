"""The login forms (the site's and the admin's): credentials longer than they can be are a
form error before anything is authenticated.

Django's AuthenticationForm sets the username's max_length after the field is built, so the
length is never checked: a 1 MB username reached the lockout's table (255 characters) and
failed there."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

PASSWORD_MAX_LENGTH = 4096


class _BoundedCredentials:
    def clean_username(self):
        username, limit = self.cleaned_data["username"], self.fields["username"].max_length
        if len(username) > limit:
            raise forms.ValidationError(f"A username has at most {limit:,} characters.")
        return username

    def clean_password(self):
        password = self.cleaned_data["password"]
        if len(password) > PASSWORD_MAX_LENGTH:
            raise forms.ValidationError(
                f"A password has at most {PASSWORD_MAX_LENGTH:,} characters.")
        return password


class LoginForm(_BoundedCredentials, AuthenticationForm):
    pass


class AdminLoginForm(_BoundedCredentials, AdminAuthenticationForm):
    pass
