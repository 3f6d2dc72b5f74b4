"""Logins, sessions and logs: the client's address behind a proxy, the lockout page, idle
sessions, one-line 403s."""

import datetime
import logging
import time

from auditlog.middleware import AuditlogMiddleware as _AuditlogMiddleware
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
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


NUL_REFUSED = "A field of this request holds a NUL byte, which no form accepts."
_security_log = logging.getLogger("mso_eval.security")


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
                _security_log.warning("refused %s %s: NUL byte in field %r", request.method,
                                      request.path, name.replace("\x00", "\\x00")[:40])
                return HttpResponseBadRequest(NUL_REFUSED, content_type="text/plain")
        return self.get_response(request)
