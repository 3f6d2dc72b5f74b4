"""With the environment docker-compose.yml gives the app, `check --deploy` warns of nothing;
and the production headers are sent."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent


def compose_environment():
    """The app's environment in docker-compose.yml, ${VAR:-default} as the default and the
    required ${SECRET_KEY:?...} as a fresh key."""
    env = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["x-app"]["environment"]

    def value(text):
        text = str(text)
        text = re.sub(r"\$\{SECRET_KEY:\?[^}]*\}", secrets.token_urlsafe(50), text)
        return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", text)

    return {name: value(v) for name, v in env.items()}


def test_check_deploy_prints_no_warning_with_the_compose_environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE", "REDIS"))}
    env.update(compose_environment())
    # Folders the container has; the check itself connects to nothing.
    env.update(VAR_DIR=str(tmp_path), FILE_UPLOAD_TEMP_DIR=str(tmp_path / "spool"))
    env.pop("DEBUG_SQL", None)
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level",
                             "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues (0 silenced)." in output
    assert "WARNING" not in output and "?: (" not in output


@pytest.mark.django_db
def test_every_page_sends_the_security_headers(client, surgeon, settings):
    client.force_login(surgeon)
    response = client.get(reverse("directory"))
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_behind_the_proxy_https_is_forced_and_hsts_sent(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    plain = client.get(reverse("login"))
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
    # The container's health check speaks plain HTTP.
    assert client.get(reverse("healthz")).status_code == 200
