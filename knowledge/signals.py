"""Keep caches right when content changes: the search index and the announcement banner."""

import threading
from contextlib import contextmanager

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

from knowledge import search

ANNOUNCEMENTS_KEY = "knowledge:announcements:v2"

_deferred = threading.local()


@contextmanager
def search_bumps_deferred():
    """Bulk changes (the content loader) bump the search version once, at the end."""
    depth = getattr(_deferred, "depth", 0)
    _deferred.depth = depth + 1
    try:
        yield
    finally:
        _deferred.depth = depth
        if depth == 0:
            search.bump_version()


def content_changed(sender=None, **kwargs):
    if getattr(_deferred, "depth", 0):
        return
    search.bump_version()


def announcements_changed(sender=None, **kwargs):
    cache.delete(ANNOUNCEMENTS_KEY)


def connect():
    from knowledge.models import Announcement, Article, Category, ResponseCode

    for model in (Article, ResponseCode, Category):
        post_save.connect(content_changed, sender=model, dispatch_uid=f"search-save-{model}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"search-del-{model}")
    for through in (Article.codes.through, Article.related.through):
        m2m_changed.connect(content_changed, sender=through, dispatch_uid=f"search-m2m-{through}")
    post_save.connect(announcements_changed, sender=Announcement, dispatch_uid="ann-save")
    post_delete.connect(announcements_changed, sender=Announcement, dispatch_uid="ann-del")
