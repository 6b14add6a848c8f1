"""The one settings module. Everything that differs between a laptop and production comes from
KEPU_* environment variables; the defaults are the embedded mode (SQLite file, in-process tasks)."""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from kepu.core.mail import email_settings

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent.parent


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    return default if raw is None else raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(os.environ.get("KEPU_DATA_DIR", REPO_DIR / "var"))
DEBUG = _env_bool("KEPU_DEBUG", False)
# The embedded key is only for a single-user laptop install (`kepu demo` runs with KEPU_EMBEDDED=1).
# With KEPU_DEBUG=0 and no KEPU_EMBEDDED, the web server refuses to start on it (kepu.core.checks).
KEPU_EMBEDDED_SECRET_KEY = "kepu-embedded-insecure-key-set-KEPU_SECRET_KEY-in-production"
KEPU_EMBEDDED = _env_bool("KEPU_EMBEDDED", False)
SECRET_KEY = os.environ.get("KEPU_SECRET_KEY") or KEPU_EMBEDDED_SECRET_KEY
# Keys the respondent pseudonyms (keyed hashes of survey ids and test tokens). Separate from
# SECRET_KEY, so rotating that key or leaking a signed cookie's key does not touch respondents'
# keys; an install that pseudonymised under SECRET_KEY keeps its keys by setting this to the old
# SECRET_KEY. The embedded value is for the demo only.
KEPU_EMBEDDED_PSEUDONYM_KEY = "kepu-embedded-pseudonym-key-set-KEPU_PSEUDONYM_KEY-in-production"
KEPU_PSEUDONYM_KEY = os.environ.get("KEPU_PSEUDONYM_KEY") or KEPU_EMBEDDED_PSEUDONYM_KEY
ALLOWED_HOSTS = _env_list("KEPU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = _env_list("KEPU_CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    # Listed so /api/docs serves Swagger UI from ninja's own static files instead of a CDN.
    "ninja",
    "django_htmx",
    # kepu.core before django_tasks_db: its `db_worker` (which first recovers tasks a killed worker
    # left RUNNING) takes the place of the library's command of the same name.
    "kepu.core",
    "django_tasks",
    "django_tasks_db",
    "kepu.plans",
    "kepu.literacy",
    "kepu.citizens",
    "kepu.outreach",
    "kepu.quiz",
    "kepu.community",
    "kepu.events",
    "kepu.facilities",
    "kepu.funding",
    "kepu.recognition",
    "kepu.emergency",
    "kepu.rumours",
    "kepu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # A citizen account (kepu.citizens) reaches only the citizen pages.
    "kepu.citizens.access.CitizenConfinement",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kepu.urls"
WSGI_APPLICATION = "kepu.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kepu.web.context.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("KEPU_DATABASE_URL", f"sqlite:///{DATA_DIR / 'kepu.sqlite3'}"),
        conn_max_age=int(os.environ.get("KEPU_DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite cannot create the folder of its file; a fresh checkout has no var/ yet.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the dashboard read while a reporter writes; a busy timeout instead of instant "locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work goes through Django's tasks interface: in-process by default; with
# KEPU_TASKS=database, tasks queue in the database and any number of `kepu db_worker`
# processes on any number of machines share the load.
TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks_db.DatabaseBackend"
            if os.environ.get("KEPU_TASKS", "immediate") == "database"
            else "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# A RUNNING task is given up as abandoned after this many seconds (sooner when its worker process
# is seen to be gone) and queued again, at most TASK_MAX_ATTEMPTS runs in all (kepu.core.worker).
TASK_STALE_AFTER = int(os.environ.get("KEPU_TASK_STALE_AFTER", "900"))
TASK_MAX_ATTEMPTS = int(os.environ.get("KEPU_TASK_MAX_ATTEMPTS", "3"))

# E-mail (reminders): written to <data dir>/outbox unless KEPU_SMTP_HOST is set (see kepu.core.mail).
globals().update(email_settings(os.environ, DATA_DIR))

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("KEPU_REDIS_URL"):
    CACHES["default"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["KEPU_REDIS_URL"],
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# django-axes locks a username after repeated failures from one address, on /login/ and /admin/login/
# alike (both authenticate through these backends); attempts live in the database, so every worker
# sees them.
# Django's database sessions and ModelBackend, with the lookups every request makes in plain SQL.
SESSION_ENGINE = "kepu.core.sessions"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "kepu.core.auth.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("KEPU_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("KEPU_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kepu.web.account_views.lockout"
# Behind N reverse proxies (KEPU_PROXY_COUNT=N), the client address comes from X-Forwarded-For.
KEPU_PROXY_COUNT = int(os.environ.get("KEPU_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "kepu.core.client_ip.client_ip"
# API tokens expire; a new token lives this many days unless asked otherwise.
KEPU_TOKEN_DAYS = int(os.environ.get("KEPU_TOKEN_DAYS", "90"))
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("KEPU_SESSION_HOURS", "12")) * 3600
# KEPU_SECURE_COOKIES=1 means "served over HTTPS": secure cookies, HSTS and a redirect to HTTPS.
SESSION_COOKIE_SECURE = _env_bool("KEPU_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
LANGUAGE_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = _env_bool("KEPU_SSL_REDIRECT", SESSION_COOKIE_SECURE)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain HTTP
if _env_bool("KEPU_TLS_PROXY", False):
    # Only with a proxy that terminates TLS and overwrites X-Forwarded-Proto.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("KEPU_HSTS_SECONDS", "31536000")) if SESSION_COOKIE_SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = _env_bool("KEPU_HSTS_INCLUDE_SUBDOMAINS", True)
X_FRAME_OPTIONS = "DENY"
# No inline scripts or styles and nothing from another host: every page works offline and an
# injected <script> does not run. data: images are the favicon and Swagger UI's icons.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
SILENCED_SYSTEM_CHECKS = [
    # HSTS preload is a commitment the domain's owner makes by submitting the domain to browsers'
    # preload lists, not something the application may opt a city's whole domain into.
    "security.W021",
]

KEPU_PLAN_FILE = Path(os.environ.get("KEPU_PLAN_FILE", REPO_DIR / "data/plans/changzhou-2021-2035.yaml"))
KEPU_REGION_FILE = Path(os.environ.get("KEPU_REGION_FILE", REPO_DIR / "data/regions/changzhou.yaml"))
KEPU_CJK_FONT = os.environ.get("KEPU_CJK_FONT", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEPU_LOG_LEVEL", "WARNING")},
}
