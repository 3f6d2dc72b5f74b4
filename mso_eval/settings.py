"""Settings, all read from the environment.

Without any environment the project runs on embedded defaults: a SQLite file
and a filesystem message broker, both under ``var/``. Set ``DATABASE_URL`` and
``REDIS_URL`` to run the same code on PostgreSQL and Redis.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# numpy's OpenBLAS runs a thread per core and keeps them spinning after each product. The
# products here are small (rank stability: 1,001 weightings x 8 criteria x 300 MSOs), and under
# a web server's own threads that spinning doubled the CPU time of a directory page (46 vs 108
# ms in bench/pages.py). Read when numpy is first imported, which is after the settings.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("VAR_DIR", BASE_DIR / "var"))


def envbool(name, default):
    value = os.getenv(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def envint(name, default):
    value = os.getenv(name)
    return int(value) if value else default


def envlist(name, default):
    value = os.getenv(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _development_secret_key():
    # Generated once and kept, so sessions survive restarts of `make run`.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


DEBUG = envbool("DEBUG", False)
SECRET_KEY = os.getenv("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _development_secret_key()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "mso_eval.apps.AdminConfig",  # django.contrib.admin with the site of mso_eval.admin_site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "auditlog",
    "partners",
    "scorecards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After the user is known, so that a refusal's log line names them.
    "mso_eval.security.NulBytesRefusedMiddleware",
    "mso_eval.security.RefusedFormsLogged",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "mso_eval.security.SessionIdleRenewalMiddleware",
    "partners.roles.RoleRequiredMiddleware",
    "mso_eval.security.AuditlogMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mso_eval.urls"
WSGI_APPLICATION = "mso_eval.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "partners.context_processors.roles",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        # A production server keeps its connections for a minute (checked before each request
        # reuses one) instead of opening one per request; development opens one per request.
        conn_max_age=envint("DB_CONN_MAX_AGE", 0 if DEBUG else 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # The web server and the worker write to the same file: WAL lets
        # readers go on while one writes, IMMEDIATE avoids upgrade deadlocks.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # A file, not memory, so that a worker process started by a test sees it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.getenv("TIME_ZONE", "America/Chicago")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
# Files served at the site root by WhiteNoise, before any login check: /favicon.ico.
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.getenv("MEDIA_ROOT", VAR_DIR / "media"))
FILE_UPLOAD_TEMP_DIR = os.getenv("FILE_UPLOAD_TEMP_DIR") or None
if FILE_UPLOAD_TEMP_DIR:
    Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)

SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# (HTTPS, headers, logins and sessions: see "Access and security" at the end.)

# Celery. Without REDIS_URL the broker is Kombu's filesystem transport: a
# real worker, no server to run.
REDIS_URL = os.getenv("REDIS_URL", "")
BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "control"):
        (BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)
# What the pages compute from a snapshot (scorecards.cache): in Redis when REDIS_URL is set,
# shared by every web process, under keys of its own beside Celery's; in process otherwise.
# CACHE_URL puts it elsewhere (another Redis database or server).
CACHE_URL = os.getenv("CACHE_URL", REDIS_URL)


def _redis_cache(name):
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
            "KEY_PREFIX": f"mso_eval.{name}"}


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "snapshots": (
        _redis_cache("snapshots")
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
              "LOCATION": "snapshots", "OPTIONS": {"MAX_ENTRIES": 1000}}
    ),
}  # fmt: skip
# Sessions are read from Redis on every request, and written through to the database, when
# every web process shares that Redis; a per-process cache would keep a session another
# process has ended (a logout), so without Redis they are read from the database alone.
if CACHE_URL:
    CACHES["sessions"] = _redis_cache("sessions")
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    SESSION_CACHE_ALIAS = "sessions"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 5
# Job status lives in our own rows (partners.Job), not in a result backend.
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only when it is done; if the worker dies mid-task
# the message goes back to the queue instead of being lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = envint("CELERY_TASK_SOFT_TIME_LIMIT", 15 * 60)
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 16 * 60)
# Each step of a job has a limit of its own (seconds): past it the job ends failed, naming the
# limit, and the task is killed a minute later if it has not stopped. Sized at about ten times
# the step at the designed scale: a file of a million responses is checked or imported in
# about 20 s, a whole import undone in less, and a snapshot computed in about 3 s.
# On PostgreSQL an import of this many responses or more is loaded into a table of its own
# (partners.surveys.importing): about three times faster for a large file; a small one joins
# the shared table, so that the number of tables stays small (10M responses: at most 100).
SURVEY_OWN_TABLE_ROWS = envint("SURVEY_OWN_TABLE_ROWS", 100_000)
SURVEY_CHECK_TIME_LIMIT = envint("SURVEY_CHECK_TIME_LIMIT", 5 * 60)
SURVEY_IMPORT_TIME_LIMIT = envint("SURVEY_IMPORT_TIME_LIMIT", 10 * 60)
SURVEY_UNDO_TIME_LIMIT = envint("SURVEY_UNDO_TIME_LIMIT", 5 * 60)
SCORECARDS_COMPUTE_TIME_LIMIT = envint("SCORECARDS_COMPUTE_TIME_LIMIT", 5 * 60)
JOB_KILL_GRACE = 60
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# The worker's beat (``celery worker -B`` or ``celery beat``) sweeps the jobs every minute:
# queued jobs no worker started within JOBS_START_TIMEOUT seconds after they were due are
# sent again once, then failed; jobs running past the time limit are failed.
JOBS_START_TIMEOUT = envint("JOBS_START_TIMEOUT", 10 * 60)
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep": {"task": "partners.tasks.jobs_sweep",
                   "schedule": float(envint("JOBS_SWEEP_EVERY", 60))},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Consultant reports render on their own queue, so that a burst of PDFs never delays a
# scorecard snapshot; workers consume "celery", "reports" or both (celery worker -Q).
CELERY_TASK_ROUTES = {"scorecards.tasks.report_render": {"queue": "reports"}}
REPORTS_SOFT_TIME_LIMIT = envint("REPORTS_SOFT_TIME_LIMIT", 120)
REPORTS_TIME_LIMIT = envint("REPORTS_TIME_LIMIT", 150)
# A worker process is replaced after its task once it holds more than this (KiB).
CELERY_WORKER_MAX_MEMORY_PER_CHILD = envint("CELERY_WORKER_MAX_MEMORY_PER_CHILD", 400_000)
# Recompute the scorecards (debounced) whenever evidence changes.
SCORECARDS_AUTO_RECOMPUTE = envbool("SCORECARDS_AUTO_RECOMPUTE", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"},
                # WeasyPrint logs every step and page at INFO.
                "weasyprint": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}},
}
# django-axes: failed logins and lockouts (WARNING) are logged, successful ones are not.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
# An expected refusal (403) is one line in the log, not a traceback.
LOGGING["filters"] = {"one_line_denials": {"()": "mso_eval.security.OneLineDenials"}}
LOGGING["handlers"]["console"]["filters"] = ["one_line_denials"]

# --- Access and security ---------------------------------------------------------------------

# HTTPS behind a reverse proxy. SECURE_PROXY_SSL_HEADER is "HEADER,value", e.g.
# "HTTP_X_FORWARDED_PROTO,https": set it only when the proxy always sets that header.
if os.getenv("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = tuple(os.environ["SECURE_PROXY_SSL_HEADER"].split(",", 1))
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # the container's health check speaks plain HTTP
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): scripts, styles and everything else from this site
# only; no inline script or style, no eval (htmx is told so in base.html), no frames.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Sessions end after SESSION_IDLE_MINUTES without a request: a request renews the session
# (at most once a minute, mso_eval.security.SessionIdleRenewalMiddleware).
SESSION_COOKIE_AGE = envint("SESSION_IDLE_MINUTES", 120) * 60

# Logins: django-axes locks a username out from one client address after
# LOGIN_FAILURE_LIMIT failed logins in a row, for LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = "mso_eval.security.lockout_cooloff"
LOGIN_LOCKOUT_MINUTES = envint("LOGIN_LOCKOUT_MINUTES", 15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The log names the username and address of a failed login; axes always masks the password.
AXES_SENSITIVE_PARAMETERS = []
AXES_LOCKOUT_CALLABLE = "mso_eval.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "mso_eval.security.client_ip"
# How many reverse proxies in front of the site append to X-Forwarded-For (0: none, and the
# header is ignored, since anybody can send it).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)

# Password reset e-mails: printed on the console unless an SMTP server is configured.
EMAIL_BACKEND = os.getenv("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.getenv("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "MSO Evaluator <noreply@localhost>")

# Uploads: files over UPLOAD_MAX_MB are refused while they arrive, before anything is kept.
UPLOAD_MAX_MB = envint("UPLOAD_MAX_MB", 512)
FILE_UPLOAD_HANDLERS = [
    "partners.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Staged files of previews never confirmed are deleted after UPLOAD_PREVIEW_HOURS.
UPLOAD_PREVIEW_HOURS = envint("UPLOAD_PREVIEW_HOURS", 24)
CELERY_BEAT_SCHEDULE["uploads-sweep"] = {
    "task": "partners.tasks.uploads_sweep", "schedule": float(envint("UPLOADS_SWEEP_EVERY", 3600)),
}

# The audit trail (django-auditlog): who changed what and when; see partners/audit.py.
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False
