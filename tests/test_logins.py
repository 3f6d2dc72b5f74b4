"""Logins and sessions: lockout after repeated failures (and its end), the client address
behind a proxy, failures logged without the password, idle sessions, password change and
reset, and the one-line log of an expected 403."""

import datetime
import logging
import re
from importlib import import_module

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from mso_eval.security import client_ip

pytestmark = pytest.mark.django_db
SECRET = "pw-surgeon"


def _login(client, password, username="surgeon", **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def test_the_right_password_after_too_many_wrong_ones_does_not_log_in(client, surgeon, settings):
    settings.AXES_FAILURE_LIMIT = 5
    for _ in range(4):
        assert _login(client, "wrong-password").status_code == 200  # the form again
    locked = _login(client, "wrong-password")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "After 5 wrong passwords in a row" in text
    assert f"blocked for {settings.LOGIN_LOCKOUT_MINUTES} minutes" in text
    right = _login(client, SECRET)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session


def test_below_the_limit_the_right_password_logs_in_and_resets_the_count(client, surgeon,
                                                                          settings):  # fmt: skip
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        _login(client, "wrong-password")
    assert _login(client, SECRET).status_code == 302
    assert client.session["_auth_user_id"] == str(surgeon.pk)
    assert not AccessAttempt.objects.filter(username="surgeon").exists()


def test_the_lockout_ends_after_the_configured_time(client, surgeon, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        _login(client, "wrong-password")
    assert _login(client, SECRET).status_code == 429
    # LOGIN_LOCKOUT_MINUTES later (the attempts' clock moved back), the right password works.
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - datetime.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES,
                                                         seconds=1))  # fmt: skip
    assert _login(client, SECRET).status_code == 302


def test_the_lockout_is_per_client_address_behind_the_proxy(client, surgeon, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.TRUSTED_PROXY_COUNT = 1
    attacker = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for _ in range(2):
        _login(client, "wrong-password", **attacker)
    assert _login(client, SECRET, **attacker).status_code == 429
    # The real surgeon, through the same proxy from another address, still logs in.
    other = {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "198.51.100.4"}
    assert _login(client, SECRET, **other).status_code == 302


def test_client_address_trusts_only_what_the_proxies_wrote(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9")  # fmt: skip
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy: the header is anybody's to forge
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "203.0.113.9"  # written by our proxy; 6.6.6.6 by the client
    settings.TRUSTED_PROXY_COUNT = 3
    assert client_ip(request) == "10.0.0.2"  # the request did not come through them all


def test_failed_logins_are_logged_without_the_password(client, surgeon, caplog, settings):
    settings.AXES_FAILURE_LIMIT = 2
    with caplog.at_level(logging.INFO):
        _login(client, "Hunter2-typed-by-mistake")
        _login(client, "Hunter2-typed-by-mistake")
    assert "login failure" in caplog.text and "surgeon" in caplog.text
    assert "Locking out" in caplog.text
    assert "Hunter2" not in caplog.text
    stored = AccessAttempt.objects.get()
    assert "Hunter2" not in f"{stored.post_data} {stored.get_data}"


def test_password_validators_refuse_weak_passwords(client, surgeon):
    client.force_login(surgeon)
    response = client.post(reverse("password_change"), {
        "old_password": SECRET, "new_password1": "12345678", "new_password2": "12345678"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "This password is too common." in text
    assert "This password is entirely numeric." in text


def test_a_password_change_logs_out_the_other_sessions(client, surgeon):
    from django.test import Client

    other = Client()
    other.force_login(surgeon)
    assert other.get(reverse("directory")).status_code == 200
    client.force_login(surgeon)
    changed = client.post(reverse("password_change"), {
        "old_password": SECRET, "new_password1": "a-long-new-passphrase-9",
        "new_password2": "a-long-new-passphrase-9"})  # fmt: skip
    assert changed.status_code == 302
    assert client.get(reverse("directory")).status_code == 200  # this session stays
    response = other.get(reverse("directory"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_password_reset_by_e_mail(client, surgeon):
    surgeon.email = "surgeon@example.com"
    surgeon.save()
    sent = client.post(reverse("password_reset"), {"email": "surgeon@example.com"})
    assert sent.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/password/reset/\S+/)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    assert b"Choose a new password" in form.content
    done = client.post(form.redirect_chain[-1][0], {
        "new_password1": "a-long-new-passphrase-9", "new_password2": "a-long-new-passphrase-9"})
    assert done.status_code == 302
    surgeon.refresh_from_db()
    assert surgeon.check_password("a-long-new-passphrase-9")


def test_e_mail_goes_to_the_console_by_default():
    from mso_eval import settings as conf

    assert conf.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


def test_a_session_expires_after_the_idle_time_and_is_renewed_by_use(client, surgeon, settings,
                                                                     monkeypatch):  # fmt: skip
    import time

    from django.contrib.sessions.models import Session

    client.force_login(surgeon)
    start = time.time()

    def expiry():
        return Session.objects.get(session_key=client.session.session_key).expire_date

    first = expiry()
    assert abs((first - timezone.now()).total_seconds() - settings.SESSION_COOKIE_AGE) < 5
    # Used ten minutes later: the session's expiry moves on.
    monkeypatch.setattr(time, "time", lambda: start + 600)
    client.get(reverse("directory"))
    assert expiry() > first
    # Not used for longer than the idle time: the session is gone.
    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    if settings.SESSION_ENGINE.endswith("cached_db"):
        # Read from Redis first: Redis keeps it for the idle time, renewed with each save, so
        # it is gone from there when it expires in the database.
        from django.core.cache import caches

        store = import_module(settings.SESSION_ENGINE).SessionStore(client.session.session_key)
        cache = caches[settings.SESSION_CACHE_ALIAS]
        key = cache.make_and_validate_key(store.cache_key)
        ttl = cache._cache.get_client(key).ttl(key)
        assert abs(ttl - settings.SESSION_COOKIE_AGE) < 5
        cache.delete(store.cache_key)
    response = client.get(reverse("directory"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_an_expected_403_is_one_line_in_the_log(client, surgeon, caplog):
    client.force_login(surgeon)
    handler = logging.getLogger().handlers[0]
    with caplog.at_level(logging.WARNING):
        assert client.get(reverse("interview_list")).status_code == 403
    record = next(r for r in caplog.records if r.name == "django.request")
    assert handler.filter(record)
    assert record.getMessage() == "Forbidden (Permission denied): /interviews/"
    assert "Traceback" not in handler.format(record)


def test_a_user_without_a_role_is_told_to_ask_for_access(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "Ask your data admin to give you one" in response.content.decode()
    assert User.objects.get(username="outsider").groups.count() == 0
