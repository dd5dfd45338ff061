"""Django's Redis cache backend, with one client per connection pool instead of one per call.

Django's RedisCacheClient builds a new `redis.Redis` object for every cache operation (cheap
connections from the pool, but an expensive object): on a page served from the cache that was
half of the time spent. The client is thread-safe (it takes a connection from the pool per
command), so one per pool is enough.
"""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import connections, models, router
from django.utils import timezone


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


class AtomicDatabaseCache(DatabaseCache):
    """Django's DatabaseCache with an atomic `incr` (compare-and-swap on the stored value), for
    counters shared by every process when there is no Redis (rate limits, see settings).

    DatabaseCache.incr reads, adds and writes: two processes counting at once lose a count.
    Here the write only succeeds if the value is still the one read, else it reads again.
    """

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        for _attempt in range(50):
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {quote('value')}, {quote('expires')} FROM {table} "  # noqa: S608
                    f"WHERE {quote('cache_key')} = %s",
                    [key],
                )
                row = cursor.fetchone()
                if row is None:
                    raise ValueError(f"Key '{key}' not found")
                old, expires = row
                for converter in converters:
                    expires = converter(expires, expression, connection)
                if expires < timezone.now().replace(microsecond=0):
                    raise ValueError(f"Key '{key}' not found")
                value = pickle.loads(base64.b64decode(old.encode()))  # noqa: S301 - ours
                new_value = value + delta
                new = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol)).decode(
                    "latin1"
                )
                cursor.execute(
                    f"UPDATE {table} SET {quote('value')} = %s "  # noqa: S608
                    f"WHERE {quote('cache_key')} = %s AND {quote('value')} = %s",
                    [new, key, old],
                )
                if cursor.rowcount == 1:
                    return new_value
        raise ValueError(f"Key '{key}' changed too often to be incremented")
