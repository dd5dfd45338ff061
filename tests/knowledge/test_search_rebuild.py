"""One build per edit for the whole deployment: a worker builds the edited version's index once
and stores it; every process loads the stored index instead of building its own, and keeps
answering from its old index until it is there. Small indexes rebuild inline.

These tests commit for real (transaction=True): the edit's task runs after the commit (the
immediate backend stands in for the worker), as in production.
"""

import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge import search
from knowledge.models import Article, SearchIndexArtefact
from knowledge.search import artefact
from knowledge.search.tasks import rebuild_search_index
from knowledge.selectors import article_search

pytestmark = pytest.mark.django_db(transaction=True)


def keys(query, lang="en"):
    return [r.key for r in article_search(query=query, lang=lang).results]


def edit(slug="wrong-pin", words=" Zanzibar."):
    article = Article.objects.get(slug=slug)
    article.summary_en += words
    article.save()  # committed at once (autocommit): the version token replaced, task enqueued


class Builds:
    """Counts index builds (in any thread); can hold them until the test opens a gate."""

    def __init__(self, monkeypatch, gated=False):
        self.entered = threading.Event()
        self.opened = threading.Event()
        if not gated:
            self.opened.set()
        self.threads = []
        real = search.load_index

        def counted(token=None):
            self.threads.append(threading.current_thread().name)
            self.entered.set()
            assert self.opened.wait(30)
            return real(token)

        monkeypatch.setattr(search, "load_index", counted)

    def open(self):
        self.opened.set()


@pytest.fixture
def large(monkeypatch):
    """Treat every index as a large one: never rebuilt inline."""
    monkeypatch.setattr(search, "INLINE_REBUILD_DOCS", 0)
    monkeypatch.setattr(search, "POLL_SECONDS", 0)
    yield
    assert search.wait_for_rebuild(30)


@pytest.fixture
def no_worker(monkeypatch):
    """Edits enqueue nothing: no worker builds the new version."""
    monkeypatch.setattr(search, "request_rebuild", lambda: None)


def test_an_edit_is_built_once_and_every_process_loads_it(content, large, monkeypatch):
    builds = Builds(monkeypatch)
    old = search.get_index()  # the content load's task stored it: loaded, not built
    assert builds.threads == [] and old.mapped_file
    edit()  # its task builds the new version once and stores it
    assert len(builds.threads) == 1
    assert keys("zanzibar") == ["wrong-pin"]  # this process loaded the stored index
    assert search.get_index() is not old
    search.set_index(None)  # another process (a new gunicorn worker) starts
    assert keys("zanzibar") == ["wrong-pin"]
    assert len(builds.threads) == 1  # loaded, not built
    assert SearchIndexArtefact.objects.filter(token=search.current_version()).exists()
    assert rebuild_search_index.call() == {"built": False}  # a second task has nothing to do


def test_the_old_index_answers_until_the_stored_one_is_there(
    content, large, no_worker, monkeypatch
):
    old = search.get_index()
    builds = Builds(monkeypatch)
    edit()
    assert keys("zanzibar") == []  # answered at once, from the old index
    assert keys("wrong pin")[0] == "wrong-pin"
    assert search.get_index() is old and builds.threads == []
    assert rebuild_search_index.call()["built"] is True  # the worker, late
    assert keys("zanzibar") == ["wrong-pin"]
    assert len(builds.threads) == 1


def test_without_a_worker_a_process_builds_in_the_background(
    content, large, no_worker, monkeypatch
):
    old = search.get_index()
    monkeypatch.setattr(search, "SELF_BUILD_SECONDS", 0)
    builds = Builds(monkeypatch, gated=True)
    edit()
    assert keys("zanzibar") == []  # notices the stale index: the old one answers
    assert keys("zanzibar") == []  # still none stored: one background build starts
    assert builds.entered.wait(30)
    assert builds.threads == ["knowledge-search-build"]
    builds.open()
    assert search.wait_for_rebuild(30)
    assert keys("zanzibar") == ["wrong-pin"]
    assert search.get_index() is not old
    assert artefact.exists(search.current_version())  # stored for the other processes


def test_a_failed_background_build_keeps_the_old_index_and_is_retried_later(
    content, large, no_worker, monkeypatch, caplog
):
    old = search.get_index()
    monkeypatch.setattr(search, "SELF_BUILD_SECONDS", 0)
    real = search.load_index
    attempts = []

    def broken(token=None):
        attempts.append(token)
        raise RuntimeError("database went away")

    monkeypatch.setattr(search, "load_index", broken)
    edit()
    keys("wrong pin")
    assert keys("wrong pin")[0] == "wrong-pin"
    assert search.wait_for_rebuild(30)
    assert "Rebuilding the search index failed" in caplog.text
    assert keys("wrong pin")[0] == "wrong-pin"  # the old index, and no new attempt yet
    assert search.wait_for_rebuild(30)
    assert len(attempts) == 1 and search.get_index() is old
    monkeypatch.setattr(search, "RETRY_SECONDS", 0)
    monkeypatch.setattr(search, "load_index", real)
    keys("zanzibar")
    assert search.wait_for_rebuild(30)
    assert keys("zanzibar") == ["wrong-pin"]


def test_a_small_index_is_rebuilt_before_answering(content, no_worker):
    old = search.get_index()
    builder = search._state["builder"]
    edit()
    assert keys("zanzibar") == ["wrong-pin"]  # this very search sees the edit
    assert search.get_index() is not old
    assert search._state["builder"] is builder  # no background thread was needed


def test_the_stored_index_ranks_exactly_like_the_built_one(content, tmp_path):
    built = search.load_index("some-version")
    path = tmp_path / "index.idx"
    path.write_bytes(artefact.dumps(built))
    loaded = artefact.load(path)
    for query in (
        "刷卡显示余额不足",
        "insufficient funds",
        "wrong pin",
        "51",
        "transacton timeout",
    ):
        expected = [(h.doc.key, round(h.score, 9)) for h in built.search(query).hits]
        assert [(h.doc.key, round(h.score, 9)) for h in loaded.search(query).hits] == expected
    # The big arrays are read from the file's mapping, not copied into the process.
    assert isinstance(loaded.post_docs, np.ndarray) and not loaded.post_docs.flags.writeable
    assert loaded.post_docs.base is not None
    assert loaded.memory_bytes() == built.memory_bytes()


def test_a_process_copies_the_stored_index_in_pieces(content, monkeypatch, settings, tmp_path):
    """One query returning the whole index would leave a persistent PostgreSQL connection
    holding twice its size for as long as it lives (knowledge/search/artefact.py)."""
    settings.SEARCH_INDEX_DIR = tmp_path  # this machine has no copy yet
    token = uuid.uuid4().hex
    size = search.publish(search.load_index(token))
    monkeypatch.setattr(artefact, "CHUNK_BYTES", 64 * 1024)
    with CaptureQueriesContext(connection) as queries:
        loaded = artefact.fetch(token)
    stored = bytes(SearchIndexArtefact.objects.values_list("data", flat=True).get(token=token))
    assert len(stored) == size and Path(loaded.mapped_file).read_bytes() == stored
    reads = [q["sql"] for q in queries if "data" in q["sql"]]
    assert len(reads) == size // artefact.CHUNK_BYTES + 1  # each at most CHUNK_BYTES
    assert all("SUBSTR" in sql.upper() for sql in reads)
    assert loaded.search("wrong pin").hits[0].doc.key == "wrong-pin"
    assert not list(artefact.directory().glob("*.part"))


def test_an_index_replaced_while_it_is_copied_is_not_mapped(
    content, monkeypatch, settings, tmp_path
):
    settings.SEARCH_INDEX_DIR = tmp_path
    token = uuid.uuid4().hex
    search.publish(search.load_index(token))
    monkeypatch.setattr(artefact, "CHUNK_BYTES", 64 * 1024)
    real = artefact.Substr

    def deleted_after_the_first_piece(*args, **kwargs):
        if args[1] > 1:
            SearchIndexArtefact.objects.filter(token=token).delete()
        return real(*args, **kwargs)

    monkeypatch.setattr(artefact, "Substr", deleted_after_the_first_piece)
    assert artefact.fetch(token) is None
    assert not list(artefact.directory().glob("*.part"))
    assert not list(artefact.directory().iterdir())


def test_a_lost_version_counter_does_not_load_the_same_index_again(content, large):
    """Redis restarted empty: every version token is new, the content is not. The worker
    builds the new token's index once; each process keeps the one it has (the same bytes)
    instead of loading a second copy (issue 21: +50 MB per gunicorn worker)."""
    old = search.get_index()
    assert old.mapped_file
    cache.clear()  # the version counter is lost
    assert keys("wrong pin")[0] == "wrong-pin"  # the old index answers meanwhile
    assert search.current_version() != old.token
    assert rebuild_search_index.call()["built"] is True  # the scheduler's minutely safety net
    assert keys("wrong pin")[0] == "wrong-pin"
    assert search.get_index() is old and old.token == search.current_version()
    assert SearchIndexArtefact.objects.filter(digest=old.digest).count() == 2
    search.set_index(None)  # a new gunicorn worker maps the very same file
    assert search.get_index().mapped_file == old.mapped_file
    edit()  # a real edit still makes a new index
    assert keys("zanzibar") == ["wrong-pin"]
    assert search.get_index().digest != old.digest


def test_the_same_content_makes_the_same_file(content):
    first, second = search.load_index("one"), search.load_index("two")
    assert artefact.dumps(first) == artefact.dumps(second)
    edit()
    assert artefact.dumps(search.load_index("three")) != artefact.dumps(first)
