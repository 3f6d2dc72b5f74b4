"""No Docker engine runs in CI, so the compose file is checked by reading it: every command
must point at a module, callable or management command that exists."""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "worker", "report-worker"]


def _command(service):
    command = SERVICES[service]["command"]
    return shlex.split(command) if isinstance(command, str) else command


def test_the_stack_has_the_expected_services():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "report-worker",
                             "beat"}
    assert SERVICES["postgres"]["image"].startswith("postgres:16")
    assert SERVICES["redis"]["image"].startswith("redis:7")


@pytest.mark.parametrize("service", ["postgres", "redis", "web", "worker", "report-worker"])
def test_long_running_services_have_health_checks(service):
    assert SERVICES[service]["healthcheck"]["test"]


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(service):
    depends = SERVICES[service]["depends_on"]
    assert depends["postgres"]["condition"] == "service_healthy"
    if service != "migrate":
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", APP_SERVICES)
def test_app_services_are_configured_from_the_environment(service):
    env = SERVICES[service]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["DATABASE_URL"].endswith("@postgres:5432/mso_eval")
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert "SECRET_KEY" in env and env["DEBUG"] == "false"
    assert SERVICES[service]["build"] == "."


@pytest.mark.parametrize("service", ["web", "worker", "report-worker"])
def test_web_and_worker_share_the_media_volume_for_staged_uploads(service):
    assert "media:/app/var/media" in SERVICES[service]["volumes"]
    assert SERVICES[service]["environment"]["FILE_UPLOAD_TEMP_DIR"].startswith("/app/var/media")


def test_each_worker_consumes_its_own_queue():
    names = ("worker", "report-worker")
    queues = {s: _command(s)[_command(s).index("--queues") + 1] for s in names}
    assert queues == {"worker": "celery", "report-worker": "reports"}


def test_migrate_runs_a_management_command_that_exists():
    command = _command("migrate")
    assert command[:2] == ["python", "manage.py"]
    assert command[2] in get_commands()


def _assert_wsgi_target(target):
    module, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_web_serves_the_wsgi_application_with_gunicorn():
    command = _command("web")
    assert command[0] == "gunicorn"
    _assert_wsgi_target(command[1])


def test_worker_runs_the_celery_app():
    command = _command("worker")
    assert command[:4] == ["celery", "-A", "mso_eval", "worker"]
    from celery import Celery

    assert isinstance(importlib.import_module("mso_eval").celery_app, Celery)


def test_web_health_check_calls_healthz():
    assert "/healthz" in " ".join(SERVICES["web"]["healthcheck"]["test"])


def test_dockerfile_default_command_serves_the_wsgi_application():
    dockerfile = (ROOT / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE).group(1)
    command = yaml.safe_load(cmd)
    assert command[0] == "gunicorn"
    _assert_wsgi_target(command[1])
    assert "collectstatic" in dockerfile
