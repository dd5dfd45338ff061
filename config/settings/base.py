"""DeclineDesk settings, driven by environment variables only (see README).

`manage.py` uses `config.settings.dev` (DEBUG on unless the environment says otherwise);
WSGI/ASGI use this module directly, so a production process is never in DEBUG by accident.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent

TRUE_VALUES = {"1", "true", "yes", "on"}


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in TRUE_VALUES


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (see the configuration table in README.md)."
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "csp",
    "ninja",  # the API docs page's template and static files (no CDN)
    "axes",
    "django_ratelimit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "django_prometheus",
    "diagnosis",
    "knowledge",
]

MIDDLEWARE = [
    "diagnosis.core.middleware.DebugEchoMiddleware",
    # Request counts and latency by view for /metrics (config/metrics.py); first and last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "diagnosis.core.middleware.DatabaseUnavailableMiddleware",
    "diagnosis.core.middleware.CardNumberURLMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.PreferredLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "diagnosis.core.ratelimits.RateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last but the metrics: its redirects (and a 503 if the database is down) get every header
    # above.
    "diagnosis.accounts.two_factor.TwoFactorRequiredMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
# Django's debug pages and error mails with card numbers masked (diagnosis/core/middleware.py).
DEFAULT_EXCEPTION_REPORTER = "diagnosis.core.middleware.SafeExceptionReporter"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "diagnosis.core.context_processors.navigation",
                "knowledge.context_processors.announcements",
                "diagnosis.insight.context_processors.insight_alerts",
            ],
            # Template tags live with their feature (not in an app-level templatetags/ folder).
            "libraries": {
                "wizard_tags": "diagnosis.wizard.templatetags",
                "insight_tags": "diagnosis.insight.templatetags",
            },
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the task worker and the scheduler share the file (`make run`): writers
    # take the lock when their transaction starts (no lock upgrade dead-ends), readers never
    # wait for a writer (WAL), and a busy database is waited for, not an error.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

RATELIMIT_TABLE = "declinedesk_ratelimit"
REDIS_URL = os.environ.get("REDIS_URL", "")
# Redis is an accelerator, never a single point of failure (config/cache_backends.py, README
# "Reliability"): short timeouts (seconds), and after REDIS_BREAKER_FAILURES failures in a row
# Redis is skipped for REDIS_BREAKER_SECONDS, then probed again.
REDIS_TIMEOUT = float(os.environ.get("REDIS_TIMEOUT", "0.25"))
REDIS_BREAKER_FAILURES = int(os.environ.get("REDIS_BREAKER_FAILURES", "3"))
REDIS_BREAKER_SECONDS = float(os.environ.get("REDIS_BREAKER_SECONDS", "5"))
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache_backends.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "declinedesk",
        },
        # While Redis does not answer, rate limits are counted in the database (fallback).
        "ratelimit": {
            "BACKEND": "config.cache_backends.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "declinedesk-rl",
            "FALLBACK": "ratelimit-db",
        },
        "ratelimit-db": {
            "BACKEND": "config.cache_backends.CounterCache",
            "LOCATION": RATELIMIT_TABLE,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        # Rate-limit counters must be shared by every process and must not be evicted by page
        # caching: a database table (diagnosis.models.RateCounter) when there is no Redis.
        "ratelimit": {"BACKEND": "config.cache_backends.CounterCache", "LOCATION": RATELIMIT_TABLE},
    }

AUTH_USER_MODEL = "diagnosis.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes: refuses locked-out attempts before the password is checked (throttle.py).
    "diagnosis.accounts.throttle.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "knowledge:home"
LOGOUT_REDIRECT_URL = "knowledge:home"
# Sessions are read from the cache (Redis when REDIS_URL is set) and written through to the
# database: one query less on every signed-in page.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(60 * 60 * 12)))

# Internationalisation: Simplified Chinese by default at /, English under /en/.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"  # display; storage is UTC (USE_TZ)
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))

# Email
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "DeclineDesk <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Absolute links in emails (ticket notifications): scheme + host, no trailing slash.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Tickets: first-response target in working hours (diagnosis/tickets/sla.py).
FIRST_RESPONSE_HOURS = float(os.environ.get("FIRST_RESPONSE_HOURS", "4"))
WORKING_HOURS_TIMEZONE = os.environ.get("WORKING_HOURS_TIMEZONE", "Asia/Shanghai")
WORKING_HOURS_START = os.environ.get("WORKING_HOURS_START", "09:00")
WORKING_HOURS_END = os.environ.get("WORKING_HOURS_END", "18:00")
WORKING_DAYS = [int(day) for day in env_list("WORKING_DAYS", "1,2,3,4,5")]  # ISO: 1 = Monday
SLA_HOLIDAYS = env_list("SLA_HOLIDAYS")  # YYYY-MM-DD,YYYY-MM-DD,…
# Working hours per priority for first reply / next reply / resolution (diagnosis/tickets/
# sla_clock.py): "priority=first/next/resolution,…"; missing priorities keep these defaults.
SLA_TARGET_HOURS = {
    "urgent": (1.0, 2.0, 8.0),
    "high": (2.0, 4.0, 18.0),
    "normal": (FIRST_RESPONSE_HOURS, 8.0, 36.0),
    "low": (8.0, 16.0, 72.0),
}
for _item in env_list("SLA_TARGETS"):
    _name, _, _hours = _item.partition("=")
    try:
        SLA_TARGET_HOURS[_name.strip()] = tuple(float(h) for h in _hours.split("/"))
        assert len(SLA_TARGET_HOURS[_name.strip()]) == 3
    except (ValueError, AssertionError):
        raise ImproperlyConfigured(f"SLA_TARGETS: {_item!r} is not priority=h/h/h") from None
# Ticket attachments: JPEG/PNG/PDF checked by content, at most this many bytes each.
TICKET_ATTACHMENT_MAX_BYTES = int(os.environ.get("TICKET_ATTACHMENT_MAX_BYTES", "5242880"))  # 5 MB
TICKET_ATTACHMENTS_PER_UPLOAD = 5
# Uploads above 1 MB are streamed to a temporary file, never held in memory; other request data
# is capped at 2.5 MB (Django refuses larger non-file bodies with 400).
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
DATA_UPLOAD_MAX_NUMBER_FILES = 20

# Decline insight (diagnosis/insight): incident detection and terminal health thresholds.
INCIDENT_MIN_MERCHANTS = int(os.environ.get("INCIDENT_MIN_MERCHANTS", "3"))
INCIDENT_WINDOW_MINUTES = int(os.environ.get("INCIDENT_WINDOW_MINUTES", "30"))
TERMINAL_HEALTH_MIN_CARDS = int(os.environ.get("TERMINAL_HEALTH_MIN_CARDS", "5"))
TERMINAL_HEALTH_WINDOW_MINUTES = int(os.environ.get("TERMINAL_HEALTH_WINDOW_MINUTES", "60"))
INSIGHT_CACHE_SECONDS = int(os.environ.get("INSIGHT_CACHE_SECONDS", "120"))
# Public pages served to anonymous visitors from the cache (config/pagecache.py), at most
# this old; content changes replace them at once.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "300"))
# Code look-ups are written to the database in batches of this many (knowledge/services.py).
KNOWLEDGE_LOOKUP_BATCH = int(os.environ.get("KNOWLEDGE_LOOKUP_BATCH", "50"))
# Content-gap logging (knowledge/gaps/services.py): searches and unknown codes are written in
# batches of this many events, or at the first event this many seconds after the last batch.
# Review on a schedule (knowledge/review.py): days from publication (or the last check) to the
# next review, by category key; fast-changing rules are checked more often.
KNOWLEDGE_REVIEW_DAYS = {"default": 180, "risk_compliance": 60, "issuer_system": 90}
KNOWLEDGE_GAP_BATCH = int(os.environ.get("KNOWLEDGE_GAP_BATCH", "100"))
KNOWLEDGE_GAP_FLUSH_SECONDS = int(os.environ.get("KNOWLEDGE_GAP_FLUSH_SECONDS", "30"))
# The content-gap report per date range is kept this long at most; any new count or content edit
# replaces it sooner (knowledge/gaps/selectors.py).
KNOWLEDGE_GAP_REPORT_SECONDS = int(os.environ.get("KNOWLEDGE_GAP_REPORT_SECONDS", "900"))

# Sign-in protection (diagnosis/accounts/throttle.py, README "Security").
LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("LOGIN_FAILURES_PER_ACCOUNT", "5"))
LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("LOGIN_FAILURES_PER_ADDRESS", "20"))
LOGIN_LOCKOUT_SECONDS = int(os.environ.get("LOGIN_LOCKOUT_SECONDS", "900"))
# Reverse proxies in front of the app whose X-Forwarded-For is trusted for the client address
# (login throttling, rate limits): how many, and/or which (addresses or prefixes).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
AXES_HANDLER = "diagnosis.accounts.throttle.LoginAttemptHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = "diagnosis.accounts.throttle.failure_limit"
AXES_COOLOFF_TIME = "diagnosis.accounts.throttle.cool_off_time"
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_CLIENT_IP_CALLABLE = "diagnosis.accounts.throttle.axes_client_ip"
AXES_USERNAME_CALLABLE = "diagnosis.accounts.throttle.axes_username"
AXES_SENSITIVE_PARAMETERS = ["username", "password", "ip_address", "email"]
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # unlock with `manage.py axes_reset_username USER` (README)
# Rate limits (django-ratelimit on the "ratelimit" cache; diagnosis/core/ratelimits.py):
# "<count>/<s|m|h|d>", empty to turn one off.
RATELIMIT_USE_CACHE = "ratelimit"
TICKET_CREATE_RATE = os.environ.get("TICKET_CREATE_RATE", "30/m")  # per merchant, per token
PASSWORD_RESET_RATE = os.environ.get("PASSWORD_RESET_RATE", "5/h")  # per address, per account
VOTE_RATE = os.environ.get("VOTE_RATE", "20/h")  # per address
# API tokens expire this many days after they were created.
API_TOKEN_EXPIRY_DAYS = int(os.environ.get("API_TOKEN_EXPIRY_DAYS", "365"))
# Two-factor sign-in (django-otp; diagnosis/accounts/two_factor.py): required for staff.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "DeclineDesk")
OTP_TOTP_THROTTLE_FACTOR = 1  # each failed code doubles the wait (1 s, 2 s, 4 s, …)
OTP_STATIC_THROTTLE_FACTOR = 1
TWO_FACTOR_PENDING_SECONDS = 10 * 60  # time to enter the code after the password
SILENCED_SYSTEM_CHECKS = [
    "axes.W002",  # no AxesMiddleware: the login form itself shows the lockout message
    "django_ratelimit.W001",  # our shared caches: Redis (Django's backend) or atomic DB table
]
# Background tasks: Django's tasks API (django-tasks backport; `django.tasks` on Django 6).
# "database" (default): django-tasks-db, tasks are rows in the project's database, run by
# `manage.py run_worker`; "rq": RQ on Redis (needs REDIS_URL), run by the same command;
# "immediate": run inside the process that enqueues (tests, one-off scripts).
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "database").strip().lower() or "database"
TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}.")
if TASKS_BACKEND == "rq":
    if not REDIS_URL:
        raise ImproperlyConfigured("TASKS_BACKEND=rq needs REDIS_URL.")
    INSTALLED_APPS += ["django_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
    RQ_SHOW_ADMIN_LINK = True
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
# A task still "running" after this many seconds whose worker is gone is run again (tasks are
# idempotent); a worker on the same machine that died is noticed at once (config/tasks.py).
TASK_RUNNING_TIMEOUT = int(os.environ.get("TASK_RUNNING_TIMEOUT", "900"))
# The queue is "not draining" for /healthz?deep=1 when a ready task waits longer than this.
TASK_QUEUE_MAX_WAIT = int(os.environ.get("TASK_QUEUE_MAX_WAIT", "300"))
# Outgoing mail (diagnosis/tickets/notifications.py): a failed delivery is tried again after
# MAIL_RETRY_SECONDS, doubling each time, at most MAIL_MAX_ATTEMPTS times (≈ 2 days).
MAIL_RETRY_SECONDS = float(os.environ.get("MAIL_RETRY_SECONDS", "30"))
MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "14"))
# Jobs that run on their own (`manage.py run_scheduler`, config/scheduler.py).
AUTO_CLOSE_DAYS = float(os.environ.get("AUTO_CLOSE_DAYS", "7"))
AUTO_CLOSE_REMIND_DAYS = float(os.environ.get("AUTO_CLOSE_REMIND_DAYS", "2"))
SLA_WARNING_MINUTES = int(os.environ.get("SLA_WARNING_MINUTES", "30"))
INCIDENT_RESOLVE_MINUTES = int(os.environ.get("INCIDENT_RESOLVE_MINUTES", "120"))
# A batch sent to a bank and unanswered after this many of the bank's working days is flagged
# (escalation list, insight dashboard: diagnosis/escalations/turnaround.py).
ESCALATION_OVERDUE_WORKING_DAYS = int(os.environ.get("ESCALATION_OVERDUE_WORKING_DAYS", "5"))
DIGEST_TIME = os.environ.get("DIGEST_TIME", "08:30")  # in WORKING_HOURS_TIMEZONE, working days
# /metrics and /healthz?deep=1 answer staff users and these networks only.
METRICS_ALLOWED_NETWORKS = env_list("METRICS_ALLOWED_NETWORKS", "127.0.0.0/8,::1/128")
# Where each machine keeps its copy of the shared search index (knowledge/search/artefact.py).
SEARCH_INDEX_DIR = Path(os.environ.get("SEARCH_INDEX_DIR", BASE_DIR / "var" / "search-index"))

# Security. Every header below is on in production; DEBUG keeps plain HTTP usable locally.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_cards": {"()": "diagnosis.core.cards.CardNumberLogFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
        "server": {"format": "[{asctime}] {message}", "style": "{"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["mask_cards"],
            "formatter": "plain",
        },
        # runserver's request log ("GET /search/?q=… 200"): masked after URL-decoding.
        "server": {
            "class": "logging.StreamHandler",
            "filters": ["mask_cards"],
            "formatter": "server",
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "jieba": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "django_tasks_db": {"level": "INFO"},
    },
}
