"""config/gunicorn.py: each worker builds the search index before taking requests."""

import logging
import runpy
from pathlib import Path

import pytest

from knowledge import search
from knowledge.loading import load_content

CONFIG = Path(__file__).resolve().parents[2] / "config" / "gunicorn.py"


@pytest.fixture(autouse=True)
def _metrics_dir(monkeypatch, tmp_path):
    """The config sets PROMETHEUS_MULTIPROC_DIR for gunicorn's processes: not for this one."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    yield
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")


class Worker:
    log = logging.getLogger("gunicorn.error")


@pytest.mark.django_db
def test_a_worker_builds_the_search_index_before_its_first_request():
    load_content()
    search.set_index(None)
    settings = runpy.run_path(str(CONFIG))
    settings["post_worker_init"](Worker())
    index = search._state["index"]
    assert index is not None and len(index.docs) > 45
    search.set_index(None)


@pytest.mark.django_db
def test_a_worker_starts_even_when_the_index_cannot_be_built(caplog, monkeypatch):
    from django.db import OperationalError

    def unavailable():
        raise OperationalError("the database is not there yet")

    monkeypatch.setattr(search, "get_index", unavailable)
    settings = runpy.run_path(str(CONFIG))
    with caplog.at_level(logging.ERROR, logger="gunicorn.error"):
        settings["post_worker_init"](Worker())  # logs, does not raise: the first search retries
    assert "Could not build the search index" in caplog.text
