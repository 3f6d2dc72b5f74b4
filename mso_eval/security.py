"""Logins, sessions and logs: the client's address behind a proxy, the lockout page, idle
sessions, one-line 403s, and one line for each refused request (a 400, or a form given back
with errors)."""

import datetime
import logging
import time

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.forms import BaseForm, BaseFormSet
from django.http import HttpResponseBadRequest
from django.shortcuts import render


def client_ip(request):
    """The client's address: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT reverse proxies that
    each append the address they saw to X-Forwarded-For, the entry the outermost one wrote.

    Entries further left were written by the client itself and are never trusted; a header
    shorter than the number of proxies (a request that bypassed them) is ignored.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        return remote
    return hops[-proxies]


def lockout_cooloff(request=None):
    return datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def _minutes(delta):
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def lockout_response(request, original_response=None, credentials=None):
    """The page shown instead of logging in once a username is locked out from an address."""
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "wait": _minutes(lockout_cooloff())},
        status=429,
    )


class OneLineDenials(logging.Filter):
    """Django logs a refused request ("Forbidden (Permission denied): /path") with the
    exception's traceback; a 403 is expected and needs no traceback. Keeps the line."""

    def filter(self, record):
        if record.name == "django.request" and getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True


# --- Sessions end after SESSION_IDLE_MINUTES without a request -------------------------------
# A session is saved (and its expiry moved to SESSION_COOKIE_AGE from now) when it changes;
# this renews it at most once a minute rather than writing it on every request.
SESSION_SEEN = "_seen"
RENEW_EVERY = 60


def _stamp_session(sender, request, user, **kwargs):
    request.session[SESSION_SEEN] = int(time.time())


user_logged_in.connect(_stamp_session, dispatch_uid="security.stamp_session")


class SessionIdleRenewalMiddleware:
    """Keeps a signed-in session alive while it is used: moves its expiry once a minute."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and request.user.is_authenticated:
            now = int(time.time())
            if now - session.get(SESSION_SEEN, 0) >= RENEW_EVERY:
                session[SESSION_SEEN] = now
        return self.get_response(request)


class AuditlogMiddleware(_AuditlogMiddleware):
    """django-auditlog's middleware, recording the client address as ``client_ip`` finds it
    (its own takes the first X-Forwarded-For entry, which the client can forge)."""

    @staticmethod
    def _get_remote_addr(request):
        return client_ip(request) or None


_security_log = logging.getLogger("mso_eval.security")


def log_refused(request, reason, fields):
    """The one warning line of a refused request: its method, path and user id, why, and the
    names of the fields at fault. Never their values: a form field can hold patient text."""
    user = getattr(request, "user", None)
    who = user.pk if user is not None and user.is_authenticated else "anonymous"
    names = ", ".join(repr(name[:40]) for name in fields)
    _security_log.warning("refused %s %s (user %s): %s in field%s %s", request.method,
                          request.path, who, reason, "s" if len(fields) > 1 else "", names)


def refused(request, message, *, reason, fields):
    """A 400 with ``message``, logged as one line (``log_refused``)."""
    log_refused(request, reason, fields)
    response = HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    # Django's request log skips a response marked so: one line, not also "Bad Request: ...".
    response._has_been_logged = True
    return response


NUL_REFUSED = "A field of this request holds a NUL byte, which no form accepts."


class NulBytesRefusedMiddleware:
    """A request whose query or form fields hold a NUL byte is answered 400 with one log line
    naming the field, before any view (or PostgreSQL, which cannot store NUL in text) sees it.
    A multipart body's fields are checked too; its files are the import's to judge."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = list(request.GET.lists())
        if request.method == "POST" and request.content_type in (
                "application/x-www-form-urlencoded", "multipart/form-data"):  # fmt: skip
            fields += list(request.POST.lists())
        for name, values in fields:
            if "\x00" in name or any("\x00" in value for value in values):
                return refused(request, NUL_REFUSED, reason="NUL byte", fields=[name])
        return self.get_response(request)


def _bound_forms(context):
    """The bound forms and formsets of a page's context: its values that are one, and the
    admin's change form and inline formsets (which it wraps as ``adminform`` and
    ``inline_admin_formsets``)."""
    found = [v for v in context.values() if isinstance(v, BaseForm | BaseFormSet)]
    if "adminform" in context:
        found.append(context["adminform"].form)
    found += [inline.formset for inline in context.get("inline_admin_formsets", ())]
    return [form for form in found if form.is_bound]


def fields_in_error(form):
    """The names (as posted, with the form's prefix) of the fields of a form or formset that
    hold an error; ``__all__`` for an error of the whole form."""
    if isinstance(form, BaseFormSet):
        names = [name for member in form.forms for name in fields_in_error(member)]
        return names + ([form.add_prefix("__all__")] if form.non_form_errors() else [])
    return [form.add_prefix(name) for name in form.errors]


class RefusedFormsLogged:
    """A page that gives a form back with errors logs one line naming the fields in error
    (``log_refused``). Views that do so answer a TemplateResponse, as the admin's do, so the
    form is found in the response's context here, once, rather than logged by each view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_template_response(self, request, response):
        fields = [name for form in _bound_forms(response.context_data or {})
                  for name in fields_in_error(form)]  # fmt: skip
        if fields:
            log_refused(request, "form errors", fields)
        return response
