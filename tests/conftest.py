import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from partners.roles import CONSULTANT, DATA_ADMIN, SURGEON

ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session):
    # Under CI the integration tests must run against PostgreSQL and Redis:
    # fail loudly instead of quietly falling back to the embedded stack.
    if os.getenv("CI"):
        missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.getenv(name)]
        if missing:
            pytest.exit(f"CI requires {' and '.join(missing)} to be set", returncode=1)
        if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
            pytest.exit("CI requires DATABASE_URL to point at PostgreSQL", returncode=1)
        import redis

        try:
            redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
        except redis.RedisError as exc:
            pytest.exit(f"Redis at REDIS_URL is not reachable: {exc}", returncode=1)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing is deliberately slow; tests log in many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _restore_reference_data():
    """Benchmarks and methodology v1 come from data migrations; a transactional test's flush
    deletes them, so tests after it get them back."""
    from django.apps import apps

    from partners.models import Benchmark
    from scorecards.models import Methodology

    if not Benchmark.objects.exists():
        importlib.import_module(
            "partners.migrations.0002_affiliation_no_overlap_and_benchmarks"
        ).seed_benchmarks(apps, None)
    if not Methodology.objects.exists():
        importlib.import_module("scorecards.migrations.0002_default_methodology").create(
            apps, None
        )


@pytest.fixture(autouse=True)
def _reference_data(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is not None:
        name = "transactional_db" if marker.kwargs.get("transaction") else "db"
    elif {"db", "transactional_db"} & set(request.fixturenames):
        name = "transactional_db" if "transactional_db" in request.fixturenames else "db"
    else:
        return
    request.getfixturevalue(name)
    _restore_reference_data()


@pytest.fixture(autouse=True)
def _cold_snapshot_cache():
    # Each test starts as a fresh deployment would: nothing computed from a snapshot kept.
    from scorecards import cache

    cache.forget()


@pytest.fixture(autouse=True)
def _no_automatic_recompute(settings):
    # Evidence changes queue a scorecard computation; tests about that turn it back on.
    settings.SCORECARDS_AUTO_RECOMPUTE = False


@pytest.fixture
def snapshot():
    """The tiny demo data as of 2026-06-01 and its snapshot (the test marks its own database)."""
    import datetime
    import io

    from django.core.management import call_command

    from scorecards.services import scorecard_compute

    as_of = datetime.date(2026, 6, 1)
    call_command("seed_demo", scale="tiny", seed=3, as_of=as_of.isoformat(), stdout=io.StringIO())
    return scorecard_compute(as_of=as_of)[0]


def _user(username, group=None, **extra):
    user = User.objects.create_user(username, password="pw-" + username, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def surgeon(db):
    return _user("surgeon", SURGEON)


@pytest.fixture
def consultant(db):
    return _user("consultant", CONSULTANT)


@pytest.fixture
def data_admin(db):
    return _user("dataadmin", DATA_ADMIN, is_staff=True)


@pytest.fixture
def outsider(db):
    """Logged in, but in no role group."""
    return _user("outsider")


def database_url_for_tests():
    """The URL of the database the tests run on, for processes started by a test."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{conf['NAME']}"
    auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf["PASSWORD"] else "")
    host = conf["HOST"] or "localhost"
    port = f":{conf['PORT']}" if conf["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{conf['NAME']}"


def start_worker(log, *args):
    """Start a real Celery worker process on the test database; its output goes to ``log``.

    Messages left in the broker by earlier runs are purged first (before the worker starts,
    so that no message of this test is lost): their job ids may name rows of this run's
    fresh test database."""
    env = {**os.environ, "DATABASE_URL": database_url_for_tests()}
    queues = args[args.index("--queues") + 1] if "--queues" in args else "celery"
    subprocess.run(
        [sys.executable, "-m", "celery", "-A", "mso_eval", "purge", "-f", "-Q", queues],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.worker_app", "worker",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO",
             *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    proc.log_path = log
    return proc


def stop_worker(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker process on the test database and the configured broker, for the
    default queue (scorecards, imports); reports have ``reports_worker``."""
    with django_db_blocker.unblock():
        proc = start_worker(tmp_path_factory.mktemp("worker") / "worker.log", "--pool=solo",
                            "--queues", "celery")
    yield proc
    stop_worker(proc)


@pytest.fixture(scope="session")
def reports_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real Celery worker for the ``reports`` queue only, as in production."""
    with django_db_blocker.unblock():
        proc = start_worker(tmp_path_factory.mktemp("reports-worker") / "worker.log",
                            "--pool=solo", "--queues", "reports", "--hostname", "reports@%h")
    yield proc
    stop_worker(proc)


def wait_for(predicate, *, timeout=60, interval=0.2, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"worker exited:\n{worker.log_path.read_text()}")
        time.sleep(interval)
    detail = f"\nworker log:\n{worker.log_path.read_text()}" if worker else ""
    raise AssertionError(f"timed out after {timeout}s{detail}")


@pytest.fixture
def queued(monkeypatch):
    """Queued job ids, collected instead of being sent to the broker; see ``run_jobs``."""
    ids = []
    monkeypatch.setattr("partners.jobs.send_after_commit",
                        lambda job, countdown=0: ids.append(job.pk))  # fmt: skip
    return ids


@pytest.fixture
def compute_sent(monkeypatch):
    """(args, countdown) of each scorecard computation sent, collected instead of sent."""
    sent = []
    monkeypatch.setattr("scorecards.tasks.scorecard_compute.apply_async",
                        lambda args, countdown=None, **options: sent.append(
                            (args, countdown or 0)))  # fmt: skip
    return sent


def run_job(job_id):
    """Run one job's task in this process, as the worker would; return the job."""
    from celery import current_app

    from partners.models import Job

    job = Job.objects.get(pk=job_id)
    current_app.tasks[job.task](job.pk)
    job.refresh_from_db()
    return job


def run_jobs(queued):
    """Run the queued jobs as the worker would; return the last one."""
    job = None
    while queued:
        job = run_job(queued.pop(0))
    return job
