"""Version tokens in the shared cache: a cheap way to tell every process that something changed.

A reader compares the token with the one its copy was made from (the search index, cached
pages); a writer replaces the token, now and again once the transaction commits (so a reader
that rebuilt from the uncommitted state meanwhile is made stale again).
"""

import uuid

from django.core.cache import cache
from django.db import transaction

from config import cache_backends

UNKNOWN = "unknown"  # no token read yet and the cache does not answer
_last_seen = {}  # key -> the token this process read last


def current(key: str) -> str:
    """The token; while the cache does not answer, the last one this process saw (its copies
    stay in use: the search index is not rebuilt for an outage; the page cache is bypassed)."""
    with cache_backends.watch() as seen:
        token = cache.get(key)
        if token is None:
            cache.add(key, uuid.uuid4().hex, None)
            token = cache.get(key)
    if token is None or seen.failed:
        return _last_seen.get(key) or token or UNKNOWN
    _last_seen[key] = token
    return token


def bump(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, None))
