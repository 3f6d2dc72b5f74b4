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
    "'hosts': s.ALLOWED_HOSTS, 'conn_max_age': s.DATABASES['default']['CONN_MAX_AGE'],"
    "'conn_health_checks': s.DATABASES['default']['CONN_HEALTH_CHECKS'],"
    "'cache': s.CACHES['snapshots']}))"
)


def settings_in_fresh_process(tmp_path, **env):
    base = {k: v for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "CACHE_URL", "SECRET_KEY", "DEBUG",
                         "ALLOWED_HOSTS", "DB_CONN_MAX_AGE")}
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


def test_a_production_server_keeps_its_database_connections_and_development_does_not(tmp_path):
    production = json.loads(settings_in_fresh_process(
        tmp_path, SECRET_KEY="k" * 50, DATABASE_URL="postgres://u:p@db.example:5433/mso").stdout)
    assert production["conn_max_age"] == 60 and production["conn_health_checks"] is True
    development = json.loads(settings_in_fresh_process(tmp_path, DEBUG="1").stdout)
    assert development["conn_max_age"] == 0
    chosen = json.loads(settings_in_fresh_process(
        tmp_path, SECRET_KEY="k" * 50, DB_CONN_MAX_AGE="5").stdout)
    assert chosen["conn_max_age"] == 5


def test_the_snapshot_cache_is_in_redis_beside_the_broker_or_in_process(tmp_path):
    redis = json.loads(settings_in_fresh_process(
        tmp_path, DEBUG="1", REDIS_URL="redis://cache.example:6379/2").stdout)["cache"]
    assert redis["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert redis["LOCATION"] == "redis://cache.example:6379/2"
    assert redis["KEY_PREFIX"] == "mso_eval.snapshots"  # apart from Celery's keys
    apart = json.loads(settings_in_fresh_process(
        tmp_path, DEBUG="1", REDIS_URL="redis://cache.example:6379/2",
        CACHE_URL="redis://cache.example:6379/3").stdout)["cache"]
    assert apart["LOCATION"] == "redis://cache.example:6379/3"
    local = json.loads(settings_in_fresh_process(tmp_path, DEBUG="1").stdout)["cache"]
    assert local["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
