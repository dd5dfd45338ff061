"""Cache backends: Redis as an accelerator that may fail, and rate-limit counters in the database.

RedisCache is Django's Redis backend with three changes:

- One client per connection pool instead of one per call: Django's RedisCacheClient builds a new
  `redis.Redis` object for every cache operation (cheap connections from the pool, but an
  expensive object); on a page served from the cache that was half of the time spent. The
  client is thread-safe (it takes a connection from the pool per command).
- It never raises when Redis is slow or gone. Connect and socket timeouts are short (settings
  REDIS_TIMEOUT, 0.25 s), redis-py does not retry, and a failed call answers like a miss: `get`
  the default, `get_many` {}, `add` False, `set` nothing. A circuit breaker per Redis address
  (shared by the "default" and "ratelimit" caches of a process) counts the failures: after
  REDIS_BREAKER_FAILURES in a row it skips Redis for REDIS_BREAKER_SECONDS (no call, no wait),
  then lets one call through as a probe; it closes again when a call succeeds. A call that
  timed out (Redis took the connection but did not answer: paused, swapping, overloaded) opens
  it at once: it has already cost REDIS_TIMEOUT, and a page makes several cache calls, so
  counting three would make one request wait three times. A refused connection costs nothing
  and is counted as usual.
- Nothing stale survives an outage: every key a write could not reach (failed or skipped while
  the breaker was open) is remembered (at most FORGET_MAX per process) and deleted once Redis
  answers again, so a session logged out, a page version bumped or a page replaced during the
  outage is not served from the old Redis copy afterwards.

With FALLBACK (the alias of another cache), calls that cannot reach Redis go to that cache
instead: the "ratelimit" cache falls over to the database counters (CounterCache below), so
rate limits hold while Redis is down (README "Reliability").

`degraded()`, `watch()` and `cache_state()` tell callers (page cache, /healthz) what happened
without a call to Redis.
"""

import contextlib
import logging
import secrets
import threading
import time

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, router

logger = logging.getLogger(__name__)

FORGET_MAX = 10_000  # keys remembered per process for deletion once Redis answers again
FRESH_SECONDS = 2.0  # a success this recent tells /healthz the cache is up without a call


class CircuitBreaker:
    """closed (calls go through) → open after `failures` failures in a row (calls skipped for
    `reset_seconds`) → half-open (one probe call; success closes, failure opens again)."""

    def __init__(self, failures: int, reset_seconds: float):
        self.failures = max(1, failures)
        self.reset_seconds = reset_seconds
        self._lock = threading.Lock()
        self._count = 0
        self._opened_at = None
        self._probing = False
        self.last_success = 0.0
        self.last_failure = 0.0
        self.lock = threading.Lock()  # guards `forget`
        self.forget = set()  # made keys whose writes were lost, deleted when Redis answers

    @property
    def state(self) -> str:
        if self._opened_at is None:
            return "closed"
        if time.monotonic() - self._opened_at < self.reset_seconds or self._probing:
            return "open"
        return "half-open"

    def allow(self) -> bool:
        with self._lock:
            if self._opened_at is None:
                return True
            if self._probing or time.monotonic() - self._opened_at < self.reset_seconds:
                return False
            self._probing = True  # this caller is the probe; the others keep skipping
            return True

    def success(self) -> bool:
        """Record a success; True when it closed an open breaker."""
        with self._lock:
            reopened = self._opened_at is not None
            self._count = 0
            self._opened_at = None
            self._probing = False
            self.last_success = time.monotonic()
        if reopened:
            logger.warning("Redis answers again: the cache is back in use")
        return reopened

    def failure(self, *, timed_out: bool = False) -> None:
        with self._lock:
            self._count += 1
            self.last_failure = time.monotonic()
            if self._probing or timed_out or self._count >= self.failures:
                if self._opened_at is None:
                    logger.warning(
                        "Redis does not answer: skipping it for %.0f s", self.reset_seconds
                    )
                self._opened_at = time.monotonic()
                self._probing = False


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()
_failed = threading.local()  # failures seen by this thread, for watch()


def breaker_for(location: str) -> CircuitBreaker:
    with _breakers_lock:
        breaker = _breakers.get(location)
        if breaker is None:
            breaker = _breakers[location] = CircuitBreaker(
                int(getattr(settings, "REDIS_BREAKER_FAILURES", 3)),
                float(getattr(settings, "REDIS_BREAKER_SECONDS", 5.0)),
            )
        return breaker


def _failures_seen() -> int:
    return getattr(_failed, "count", 0)


@contextlib.contextmanager
def watch():
    """`with watch() as seen:` … `seen.failed` is True when a cache call inside failed or was
    skipped (the caller then knows its cache reads were misses by necessity, not by content)."""

    class Seen:
        failed = False

    seen = Seen()
    before = _failures_seen()
    try:
        yield seen
    finally:
        seen.failed = _failures_seen() != before


def _redis_cache(alias: str):
    from django.core.cache import caches

    backend = caches[alias]
    return backend if isinstance(backend, RedisCache) else None


def degraded(alias: str = "default") -> bool:
    """True while the Redis behind `alias` is being skipped (breaker open); no call made."""
    backend = _redis_cache(alias)
    return backend is not None and backend.breaker.state == "open"


def cache_state(alias: str = "default") -> str:
    """ "local" (no Redis configured), "up" or "down", for /healthz: from the breaker, with at
    most one call (a PING bounded by REDIS_TIMEOUT) when nothing recent tells."""
    backend = _redis_cache(alias)
    if backend is None:
        return "local"
    breaker = backend.breaker
    if breaker.state == "open":
        return "down"
    if time.monotonic() - breaker.last_success < FRESH_SECONDS:
        return "up"
    return "up" if backend.ping() else "down"


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


def _timed_out(error: Exception) -> bool:
    """Redis did not answer in time (as opposed to refusing the connection at once)."""
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(error, RedisTimeoutError | TimeoutError)


def _redis_errors() -> tuple:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


class RedisCache(DjangoRedisCache):
    """Django's RedisCache that answers a miss instead of raising (see the module docstring)."""

    def __init__(self, server, params):
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        timeout = float(getattr(settings, "REDIS_TIMEOUT", 0.25))
        params = {**params}
        options = {
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),  # the breaker decides when to try again
            **params.get("OPTIONS", {}),
        }
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
        self._fallback_alias = params.get("FALLBACK")
        self.breaker = breaker_for(str(server))
        self._errors = _redis_errors()

    # --- the guard around every call ---
    def _fallback(self):
        if not self._fallback_alias:
            return None
        from django.core.cache import caches

        return caches[self._fallback_alias]

    def _call(self, name, args, miss, written=None):
        """super().name(*args) if Redis answers; else the fallback cache's answer, or miss().
        written: the keys the call writes (a function, called only when the write is lost)."""
        if self.breaker.allow():
            try:
                if self.breaker.forget:
                    self._forget_now()
                result = getattr(super(), name)(*args)
            except self._errors as error:
                self.breaker.failure(timed_out=_timed_out(error))
            except Exception:
                # Redis answered; the error is the caller's (`incr` of a key an emptied Redis
                # no longer has). Not counted as a success, a probe would stay "in progress"
                # and the breaker open for the life of the process.
                self.breaker.success()
                raise
            else:
                self.breaker.success()
                return result
        _failed.count = _failures_seen() + 1
        fallback = self._fallback()
        if fallback is not None:
            return getattr(fallback, name)(*args)
        if written is not None:
            self._remember(written())
        return miss()

    def _remember(self, keys):
        breaker = self.breaker
        with breaker.lock:
            room = FORGET_MAX - len(breaker.forget)
            if room < len(keys):
                logger.warning("Redis outage: too many keys written to forget them all")
            breaker.forget.update(keys[: max(0, room)])

    def _forget_now(self):
        """Delete the keys whose writes were lost (before anything is read again)."""
        breaker = self.breaker
        with breaker.lock:
            keys, breaker.forget = list(breaker.forget), set()
        if keys:
            try:
                self._cache.delete_many(keys)  # keys made already (prefix, version)
            except self._errors:
                self._remember(keys)
                raise

    def ping(self) -> bool:
        """One PING (bounded by REDIS_TIMEOUT); False without a call while the breaker is open."""
        if not self.breaker.allow():
            return False
        try:
            self._cache.get_client().ping()
            if self.breaker.forget:
                self._forget_now()
        except self._errors as error:
            self.breaker.failure(timed_out=_timed_out(error))
            return False
        self.breaker.success()
        return True

    def _made(self, keys, version):
        return lambda: [self.make_and_validate_key(key, version=version) for key in keys]

    # --- the cache API ---
    def get(self, key, default=None, version=None):
        return self._call("get", (key, default, version), lambda: default)

    def get_many(self, keys, version=None):
        return self._call("get_many", (keys, version), dict)

    def has_key(self, key, version=None):
        return self._call("has_key", (key, version), lambda: False)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        args = (key, value, timeout, version)
        return self._call("add", args, lambda: False, self._made([key], version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        args = (key, value, timeout, version)
        return self._call("set", args, lambda: None, self._made([key], version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        args = (data, timeout, version)
        return self._call("set_many", args, lambda: list(data), self._made(list(data), version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        args = (key, timeout, version)
        return self._call("touch", args, lambda: False, self._made([key], version))

    def delete(self, key, version=None):
        return self._call("delete", (key, version), lambda: False, self._made([key], version))

    def delete_many(self, keys, version=None):
        keys = list(keys)
        return self._call("delete_many", (keys, version), lambda: None, self._made(keys, version))

    def incr(self, key, delta=1, version=None):
        def miss():
            raise ValueError(f"Key '{key}' not found (the cache does not answer)")

        return self._call("incr", (key, delta, version), miss, self._made([key], version))

    def clear(self):
        return self._call("clear", (), lambda: None)


# --- rate-limit counters without Redis --------------------------------------------------------


CULL_EVERY = 200  # on average, one new counter in this many removes the expired ones


class CounterCache(BaseCache):
    """A cache of integer counters in a database table (diagnosis.models.RateCounter), shared by
    every process: the "ratelimit" cache when there is no Redis (django-ratelimit's add + incr).

    Django's DatabaseCache is not enough here: its incr reads, adds and writes (two processes
    counting at once lose counts) and each call costs three or four queries. Here `add` and
    `incr` are one atomic statement each (INSERT … ON CONFLICT, UPDATE … RETURNING, on SQLite
    and PostgreSQL alike). Only integers are stored.
    """

    def __init__(self, table, params):
        super().__init__(params)
        self._table = table

    def _run(self, sql, params) -> tuple[int, tuple | None]:
        """(rows changed, first row returned) of one statement."""
        from diagnosis.models import RateCounter

        connection = connections[router.db_for_write(RateCounter)]
        table = connection.ops.quote_name(self._table)
        with connection.cursor() as cursor:
            cursor.execute(sql.format(table=table), params)
            row = cursor.fetchone() if cursor.description else None
            return cursor.rowcount, row

    def _expires(self, timeout) -> int:
        timeout = self.get_backend_timeout(timeout)
        return 2**62 if timeout is None else int(timeout)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        now = int(time.time())
        changed, _row = self._run(
            "INSERT INTO {table} (key, count, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires = excluded.expires "
            "WHERE {table}.expires < %s",
            [key, int(value), self._expires(timeout), now],
        )
        added = changed == 1
        if added and secrets.randbelow(CULL_EVERY) == 0:
            self.cull_expired()  # counters of windows that are over
        return added

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        self._run(
            "INSERT INTO {table} (key, count, expires) VALUES (%s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET count = excluded.count, expires = excluded.expires",
            [key, int(value), self._expires(timeout)],
        )

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        _changed, row = self._run(
            "UPDATE {table} SET count = count + %s WHERE key = %s AND expires >= %s "
            "RETURNING count",
            [int(delta), key, int(time.time())],
        )
        if row is None:
            raise ValueError(f"Key '{key}' not found")
        return row[0]

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        _changed, row = self._run(
            "SELECT count FROM {table} WHERE key = %s AND expires >= %s",
            [key, int(time.time())],
        )
        return default if row is None else row[0]

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        changed, _row = self._run(
            "UPDATE {table} SET expires = %s WHERE key = %s", [self._expires(timeout), key]
        )
        return changed == 1

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._run("DELETE FROM {table} WHERE key = %s", [key])[0] == 1

    def clear(self):
        self._run("DELETE FROM {table}", [])

    def cull_expired(self) -> int:
        return self._run("DELETE FROM {table} WHERE expires < %s", [int(time.time())])[0]
