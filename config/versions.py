"""Version tokens in the shared cache: a cheap way to tell every process that something changed.

A reader compares the token with the one its copy was made from (the search index, cached
pages); a writer replaces the token, now and again once the transaction commits (so a reader
that rebuilt from the uncommitted state meanwhile is made stale again).
"""

import uuid

from django.core.cache import cache
from django.db import transaction


def current(key: str) -> str:
    token = cache.get(key)
    if token is None:
        cache.add(key, uuid.uuid4().hex, None)
        token = cache.get(key) or "unknown"
    return token


def bump(key: str) -> None:
    cache.set(key, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(key, uuid.uuid4().hex, None))
