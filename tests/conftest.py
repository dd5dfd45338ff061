import os

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, settings

from tests import factories

# The machines are shared and noisy: a slow example is not a failure. Examples stay bounded.
settings.register_profile(
    "declinedesk", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("declinedesk")
# The property-based proof of card masking (tests/security/test_card_scrub_property.py) runs at
# least 500 examples everywhere, CI included; it stays within a few seconds.
settings.register_profile(
    "card_proof",
    parent=settings.get_profile("declinedesk"),
    max_examples=int(os.environ.get("CARD_PROOF_EXAMPLES", "600")),
)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached data must not outlive a rolled-back DB."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _no_pending_gap_logs():
    """Gap logs counted in memory by one test are never written into another's database."""
    from knowledge.gaps import services as gaps

    gaps.discard()
    yield
    gaps.discard()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to /en/… leaves English active in
    the thread (LocaleMiddleware never deactivates), which would leak into the next test's
    reverse() and gettext calls."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def merchant(db):
    return factories.merchant()


@pytest.fixture
def terminal(merchant):
    return factories.terminal(merchant=merchant)


@pytest.fixture
def merchant_user(merchant):
    return factories.merchant_user(merchant=merchant)


@pytest.fixture
def other_merchant_user(db):
    return factories.merchant_user()


@pytest.fixture
def agent(db):
    return factories.agent()


@pytest.fixture
def editor(db):
    return factories.editor()


@pytest.fixture
def superuser(db):
    return factories.user(is_staff=True, is_superuser=True)


@pytest.fixture
def ticket(merchant_user, terminal):
    """A ticket of `merchant` (on `terminal`), recorded by `merchant_user` through the service."""
    return factories.ticket(merchant=merchant_user.merchant, user=merchant_user, tid=terminal.tid)


@pytest.fixture
def database_tasks(settings):
    """Tasks go to the database backend (django-tasks-db), as in production: enqueued rows that
    a worker (`run_worker`, or `run_database_tasks()` below) runs later."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    yield


def run_database_tasks(max_rounds=10) -> int:
    """Run every ready task in this process, as `run_worker --batch` would; returns how many."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    worker.run()
    return worker._run_tasks
