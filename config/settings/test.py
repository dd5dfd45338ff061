"""Settings for the test suite: production-like (DEBUG off), fast hashing, no manifest."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-that-is-long-enough-for-django-checks")
os.environ["DEBUG"] = "0"

from .base import *  # noqa: E402, F403
from .base import RATELIMIT_TABLE, STORAGES  # noqa: E402

ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": {"BACKEND": "config.cache_backends.CounterCache", "LOCATION": RATELIMIT_TABLE},
}
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
SECURE_SSL_REDIRECT = False
KNOWLEDGE_LOOKUP_BATCH = 1  # tests read the counter right after a page view
# Gap logs are written when a test flushes them (or a batch of 100 fills), never by the clock:
# a query count never depends on timing.
KNOWLEDGE_GAP_FLUSH_SECONDS = 10**9
# Tests post many tickets and resets in a row; the rate-limit tests set their own small limits.
TICKET_CREATE_RATE = "1000/m"
PASSWORD_RESET_RATE = "1000/h"
# Tasks run where they are enqueued (after the commit, like a worker would); the worker tests
# switch to the database backend and start a real worker process.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Each test run keeps its shared search-index files apart (knowledge/search/artefact.py).
SEARCH_INDEX_DIR = Path(tempfile.mkdtemp(prefix="declinedesk-search-"))
# SQLite: the test database is a file, not memory, so that the worker tests can start a real
# worker process on it (tests/diagnosis/test_task_worker.py).
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(Path(tempfile.gettempdir()) / f"declinedesk-test-{os.getpid()}.sqlite3")
    }
