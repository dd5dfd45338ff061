"""Knowledge search: one in-process index per process, rebuilt when the content changes.

The index lives in process memory (fast, identical on SQLite and PostgreSQL). Several gunicorn
processes stay correct through a version token in the shared Django cache: saving or deleting an
article, code or category replaces the token (signals), and every search compares the token
with the one its index was built from — one cache read per search.
"""

import threading
import uuid

from django.core.cache import cache
from django.db import transaction

from knowledge.search.index import Document, Results, SearchIndex  # noqa: F401

VERSION_KEY = "knowledge:search:version"

_lock = threading.Lock()
_state = {"index": None}


def bump_version(**kwargs):
    """Mark the index stale in every process (now, and again once the transaction commits)."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, None)
    transaction.on_commit(lambda: cache.set(VERSION_KEY, uuid.uuid4().hex, None))


def current_version() -> str:
    token = cache.get(VERSION_KEY)
    if token is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, None)
        token = cache.get(VERSION_KEY) or "unknown"
    return token


def build_documents():
    """Documents for every published article and every response code (three queries)."""
    from knowledge.models import Article, ResponseCode

    documents = []
    codes = ResponseCode.objects.select_related("category")
    for code in codes:
        documents.append(code.search_document())
    articles = (
        Article.objects.published()
        .select_related("category")
        .prefetch_related("codes")
        .order_by("pk")
    )
    for article in articles:
        documents.append(article.search_document())
    return documents


def get_index() -> SearchIndex:
    token = current_version()
    index = _state["index"]
    if index is None or index.token != token:
        with _lock:
            index = _state["index"]
            if index is None or index.token != token:
                index = SearchIndex(build_documents(), token=token)
                _state["index"] = index
    return index


def set_index(index: SearchIndex | None):
    """Install a prepared index (benchmarks) or drop the current one (None)."""
    _state["index"] = index
