"""Redis is an accelerator, never a single point of failure (config/cache_backends.py).

In-process checks against a Redis address where nothing listens (what a dead node looks like);
tests/foundation/test_redis_faults.py does the same through a real server and a real Redis that
is paused and killed.
"""

import pytest
from django.core.cache import cache, caches
from django.db import DatabaseError

from config import cache_backends
from diagnosis.models import RateCounter
from knowledge.models import ResponseCode
from tests.diagnosis.test_task_worker import free_port
from tests.foundation.test_redis_faults import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_redis(settings):
    """Both caches on a Redis address that refuses connections (port closed)."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    cache_backends._breakers.clear()
    settings.REDIS_BREAKER_FAILURES = 3
    settings.REDIS_BREAKER_SECONDS = 60
    settings.CACHES = {
        "default": {"BACKEND": "config.cache_backends.RedisCache", "LOCATION": url},
        "ratelimit": {
            "BACKEND": "config.cache_backends.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "rl",
            "FALLBACK": "ratelimit-db",
        },
        "ratelimit-db": {
            "BACKEND": "config.cache_backends.CounterCache",
            "LOCATION": settings.RATELIMIT_TABLE,
        },
    }
    yield url
    cache_backends._breakers.clear()


def test_a_dead_redis_answers_misses_and_is_skipped_after_three_failures(dead_redis):
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    cache.set("k", 1)  # no exception
    assert cache.breaker.state == "open"
    assert cache.add("k", 1) is False
    assert cache.set_many({"a": 1}) == ["a"]
    with pytest.raises(ValueError):
        cache.incr("k")
    # The keys whose writes were lost are deleted when Redis answers again.
    assert {cache.make_key("k"), cache.make_key("a")} <= cache.breaker.forget
    assert cache_backends.degraded() is True
    assert cache_backends.cache_state() == "down"


def test_an_open_breaker_makes_no_call(dead_redis, monkeypatch):
    for _ in range(3):
        cache.get("k")
    calls = []
    monkeypatch.setattr(
        cache._cache, "get", lambda *args: calls.append(args) or pytest.fail("called")
    )
    assert cache.get("k") is None
    assert calls == []


def test_rate_limits_fall_over_to_the_database_counters(dead_redis):
    limiter = caches["ratelimit"]
    assert limiter.add("login:x", 1, 60) is True
    assert limiter.incr("login:x") == 2
    assert RateCounter.objects.count() == 1


def test_pages_search_and_health_while_redis_is_dead(dead_redis, client, content):
    for path in ("/", "/codes/51/", "/codes/51/", "/search/?q=余额不足"):
        response = client.get(path)
        assert response.status_code == 200, path
    api = client.get("/api/v1/search", {"q": "51"})
    assert api.status_code == 200 and api["Content-Type"].startswith("application/json")
    assert api.json()["results"]
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "degraded", "database": "up", "cache": "down"}


def test_a_failed_look_up_flush_keeps_the_counts(content, client, settings, monkeypatch):
    from django.db.models.query import QuerySet

    from knowledge import services

    settings.KNOWLEDGE_LOOKUP_BATCH = 2
    services.lookups_flush()
    assert client.get("/codes/14/").status_code == 200  # counted, kept in the page cache

    def refuse(self, **kwargs):
        raise DatabaseError("the database blinked")

    with monkeypatch.context() as patched:
        patched.setattr(QuerySet, "update", refuse)
        # This look-up triggers the flush, which fails: the cached page is still served.
        assert client.get("/codes/14/").status_code == 200
    assert ResponseCode.objects.get(code="14").lookups == 0
    assert client.get("/codes/14/").status_code == 200  # the next flush writes all three
    assert ResponseCode.objects.get(code="14").lookups == 3


def test_the_scheduler_still_enqueues_while_the_cache_does_not_answer(dead_redis, monkeypatch):
    from config import scheduler

    enqueued = []

    class Task:
        @staticmethod
        def enqueue():
            enqueued.append(1)

    monkeypatch.setattr(scheduler, "import_string", lambda path: Task)
    job = scheduler.Job("outage", "any.task", 60)
    assert scheduler.enqueue(job, slot=1) is True
    assert scheduler.enqueue(job, slot=1) is True  # no slot can be taken: at worst twice
    assert len(enqueued) == 2


def test_a_signed_in_agent_works_while_redis_is_dead(dead_redis, client):
    from tests import factories

    agent = factories.agent()
    factories.sign_in(client, agent)
    assert client.get("/desk/").status_code == 200


@pytest.fixture
def live_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server.url
    server.kill()


def test_a_write_lost_while_redis_stalls_is_not_read_back_afterwards(live_redis, settings):
    """A session logged out (or a page version bumped) while Redis stalled must not come back
    from the old Redis copy once Redis answers again."""
    import time

    import redis

    cache_backends._breakers.clear()
    settings.REDIS_BREAKER_SECONDS = 0.5  # the timeout opens the breaker; probe after the pause
    settings.CACHES = {
        "default": {"BACKEND": "config.cache_backends.RedisCache", "LOCATION": live_redis}
    }
    cache.set("session", "signed in")
    redis.Redis.from_url(live_redis).client_pause(800, all=True)
    started = time.monotonic()
    cache.delete("session")  # times out after REDIS_TIMEOUT: the delete is lost…
    assert time.monotonic() - started < 0.6
    time.sleep(max(0.0, started + 1.0 - time.monotonic()))  # the pause is over
    assert cache.get("session") is None  # …and made good before anything is read
    assert cache.breaker.forget == set()
    cache_backends._breakers.clear()


def test_one_timeout_opens_the_breaker_so_a_page_waits_once(live_redis, settings):
    """A paused Redis takes the connection and does not answer: the first call waits
    REDIS_TIMEOUT, and the calls after it (a page makes several) skip Redis at once."""
    import time

    import redis

    cache_backends._breakers.clear()
    settings.REDIS_BREAKER_FAILURES = 3
    settings.REDIS_BREAKER_SECONDS = 60
    settings.CACHES = {
        "default": {"BACKEND": "config.cache_backends.RedisCache", "LOCATION": live_redis}
    }
    assert cache.get("warm") is None  # connected while Redis answers
    redis.Redis.from_url(live_redis).client_pause(3000, all=True)
    started = time.monotonic()
    assert cache.get("page") is None
    first = time.monotonic() - started
    assert cache.breaker.state == "open"
    started = time.monotonic()
    for key in ("version", "banner", "fragment", "session"):
        assert cache.get(key) is None
    assert time.monotonic() - started < 0.05  # skipped, not waited on
    assert 0.2 <= first < 0.6
    cache_backends._breakers.clear()


def test_a_probe_that_raises_for_the_caller_still_closes_the_breaker(live_redis, settings):
    """Redis restarted empty: the first call let through may be an `incr` of a key it no
    longer has. Redis answered (ValueError is the caller's): the breaker closes."""
    import time

    cache_backends._breakers.clear()
    settings.REDIS_BREAKER_SECONDS = 0.2
    settings.CACHES = {
        "default": {"BACKEND": "config.cache_backends.RedisCache", "LOCATION": live_redis}
    }
    cache.breaker.failure(timed_out=True)  # as during the outage
    assert cache.breaker.state == "open"
    time.sleep(0.3)
    with pytest.raises(ValueError):
        cache.incr("gone")  # the probe
    assert cache.breaker.state == "closed"
    cache.set("back", 1)
    assert cache.get("back") == 1
    cache_backends._breakers.clear()
