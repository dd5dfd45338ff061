"""Django's Redis cache backend, with one client per connection pool instead of one per call.

Django's RedisCacheClient builds a new `redis.Redis` object for every cache operation (cheap
connections from the pool, but an expensive object): on a page served from the cache that was
half of the time spent. The client is thread-safe (it takes a connection from the pool per
command), so one per pool is enough.
"""

import secrets
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, router


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


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


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
