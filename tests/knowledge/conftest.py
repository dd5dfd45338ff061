import pytest
from django.core.cache import cache

from knowledge import search
from knowledge.loading import load_content


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: no stale search version, rate limit or banner."""
    cache.clear()
    search.set_index(None)
    yield
    cache.clear()
    search.set_index(None)


@pytest.fixture
def content(db):
    """The real knowledge base, loaded by the same code as `manage.py load_knowledge`."""
    return load_content()
