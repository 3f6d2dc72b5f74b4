"""Settings come from the environment; checked in fresh processes, as a deployment would."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRINT = (
    "import json; from django.conf import settings as s; print(json.dumps({"
    "'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'broker': s.CELERY_BROKER_URL, 'debug': s.DEBUG, 'key': s.SECRET_KEY,"
    "'hosts': s.ALLOWED_HOSTS}))"
)


def settings_in_fresh_process(tmp_path, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")}
    base.update(VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="mso_eval.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {PRINT}"],
        cwd=ROOT, env=base, capture_output=True, text=True,
    )


def test_embedded_defaults_without_environment(tmp_path):
    result = settings_in_fresh_process(tmp_path, DEBUG="1")
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"] == str(tmp_path / "db.sqlite3")
    assert conf["broker"] == "filesystem://localhost//"
    assert (tmp_path / "broker" / "queue").is_dir()


def test_development_secret_key_is_generated_once_and_kept(tmp_path):
    first = json.loads(settings_in_fresh_process(tmp_path, DEBUG="1").stdout)["key"]
    second = json.loads(settings_in_fresh_process(tmp_path, DEBUG="1").stdout)["key"]
    assert len(first) >= 50
    assert first == second == (tmp_path / "secret_key").read_text()


def test_secret_key_is_required_when_debug_is_off(tmp_path):
    result = settings_in_fresh_process(tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr
    assert not (tmp_path / "secret_key").exists()


def test_postgres_and_redis_from_urls(tmp_path):
    result = settings_in_fresh_process(
        tmp_path,
        SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://u:p@db.example:5433/mso",
        REDIS_URL="redis://cache.example:6379/2",
        ALLOWED_HOSTS="mso.example.com, www.mso.example.com",
    )
    conf = json.loads(result.stdout)
    assert conf["engine"] == "django.db.backends.postgresql"
    assert conf["name"] == "mso"
    assert conf["broker"] == "redis://cache.example:6379/2"
    assert conf["debug"] is False
    assert conf["hosts"] == ["mso.example.com", "www.mso.example.com"]
