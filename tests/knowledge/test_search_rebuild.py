"""After an edit, a large index keeps answering while one background thread builds the new one;
the edit is searchable as soon as that build is done. Small indexes rebuild inline.

These tests commit for real (transaction=True): the background thread has its own database
connection and only sees committed rows, as in production.
"""

import threading

import pytest

from knowledge import search
from knowledge.models import Article
from knowledge.selectors import article_search

pytestmark = pytest.mark.django_db(transaction=True)


def keys(query, lang="en"):
    return [r.key for r in article_search(query=query, lang=lang).results]


def edit(slug="wrong-pin", words=" Zanzibar."):
    article = Article.objects.get(slug=slug)
    article.summary_en += words
    article.save()  # committed at once (autocommit), the version token replaced


class Gate:
    """Makes index builds wait until the test opens the gate; counts them."""

    def __init__(self, monkeypatch):
        self.entered = threading.Event()  # a build has read the version token and waits
        self.opened = threading.Event()
        self.builds = []
        real = search.load_index

        def gated(token=None):
            self.builds.append(threading.current_thread().name)
            self.entered.set()
            assert self.opened.wait(30)
            return real(token)

        monkeypatch.setattr(search, "load_index", gated)

    def open(self):
        self.opened.set()


@pytest.fixture
def large(monkeypatch):
    """Treat every index as a large one: rebuilds go to the background."""
    monkeypatch.setattr(search, "INLINE_REBUILD_DOCS", 0)
    yield
    assert search.wait_for_rebuild(30)


def test_searches_answer_from_the_old_index_while_the_new_one_builds(content, large, monkeypatch):
    old = search.get_index()  # no index yet: built before answering
    gate = Gate(monkeypatch)
    edit()
    assert keys("zanzibar") == []  # answered at once, from the old index
    assert keys("wrong pin")[0] == "wrong-pin"
    assert search.get_index() is old
    assert gate.entered.wait(30)
    assert gate.builds == ["knowledge-search-build"]  # one build, in the background
    gate.open()
    assert search.wait_for_rebuild(30)
    assert keys("zanzibar") == ["wrong-pin"]
    assert search.get_index() is not old


def test_edits_during_a_build_are_picked_up_by_the_next_one(content, large, monkeypatch):
    search.get_index()
    gate = Gate(monkeypatch)
    edit(words=" Zanzibar.")
    keys("zanzibar")  # starts a build for that edit
    assert gate.entered.wait(30)
    edit(slug="card-care", words=" Quokka.")  # while it runs
    gate.open()
    assert search.wait_for_rebuild(30)
    assert keys("zanzibar") == ["wrong-pin"]
    assert search.wait_for_rebuild(30)  # this search noticed the second edit: one more build
    assert keys("quokka") == ["card-care"]
    assert len(gate.builds) == 2


def test_a_failed_build_keeps_the_old_index_and_is_retried_later(
    content, large, monkeypatch, caplog
):
    old = search.get_index()
    real = search.load_index
    attempts = []

    def broken(token=None):
        attempts.append(token)
        raise RuntimeError("database went away")

    monkeypatch.setattr(search, "load_index", broken)
    edit()
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


def test_dropping_the_index_discards_a_build_in_progress(content, large, monkeypatch):
    search.get_index()
    gate = Gate(monkeypatch)
    edit()
    keys("zanzibar")
    search.set_index(None)
    gate.open()
    assert search.wait_for_rebuild(30)
    assert search._state["index"] is None


def test_a_small_index_is_rebuilt_before_answering(content):
    old = search.get_index()
    builder = search._state["builder"]
    edit()
    assert keys("zanzibar") == ["wrong-pin"]  # this very search sees the edit
    assert search.get_index() is not old
    assert search._state["builder"] is builder  # no background thread was needed
