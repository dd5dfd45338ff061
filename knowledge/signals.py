"""Keep derived data right when content changes: search analyses, the search index, the banner.

Articles and codes store their search analysis (`search_terms`, knowledge.search.analysis) on
every save, here rather than in the models, so that the models never import the search package;
changing an article's codes stores it again. Renaming a category, deleting a code or changing
codes in bulk leaves analyses stale: the next index build notices (their stamps) and redoes them.
"""

import threading
from contextlib import contextmanager

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from diagnosis.core.scrubbed_fields import scrub_instance
from knowledge import search
from knowledge.search import analysis

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


def _analysis_of(sender):
    """(the model fields that go into its analysis, the function computing it) for a model."""
    from knowledge.models import Article

    if sender is Article:
        return analysis.ARTICLE_SOURCES, analysis.article_blob
    return analysis.CODE_SOURCES, analysis.code_blob


def analyse_before_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """A whole-row save stores the row's search analysis with it (no extra query)."""
    if not raw and update_fields is None:
        scrub_instance(instance)  # the analysis reads the texts as they will be stored
        instance.search_terms = _analysis_of(sender)[1](instance)


def analyse_after_partial_save(sender, instance, raw=False, update_fields=None, **kwargs):
    """A save of some fields (`update_fields`) that go into the analysis stores it afterwards;
    a save of other fields (a status change) keeps the stored one."""
    if raw or update_fields is None or "search_terms" in update_fields:
        return
    sources, blob_of = _analysis_of(sender)
    if sources & set(update_fields):
        scrub_instance(instance)
        instance.search_terms = blob_of(instance)
        sender.objects.filter(pk=instance.pk).update(search_terms=instance.search_terms)


def article_codes_changed(sender=None, instance=None, action="", reverse=False, **kwargs):
    """An article's codes are part of its search analysis: store it again."""
    from knowledge.models import Article

    if action == "pre_clear" and reverse:  # a code loses all its articles: remember which
        instance._search_cleared = list(instance.articles.values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        pks = [instance.pk]
    elif action == "post_clear":
        pks = getattr(instance, "_search_cleared", [])
    else:
        pks = list(kwargs.get("pk_set") or ())
    if pks:
        analysis.refresh(articles=Article.objects.filter(pk__in=pks))


def announcements_changed(sender=None, **kwargs):
    cache.delete(ANNOUNCEMENTS_KEY)


def first_review_date(sender, instance, raw=False, **kwargs):
    """A published article or a code saved without a "review by" date gets one
    (knowledge.review)."""
    if not raw:
        from knowledge import review

        review.set_first_review_date(instance)


def connect():
    from knowledge.models import Announcement, Article, Category, ResponseCode, SynonymGroup

    for model in (Article, ResponseCode):
        pre_save.connect(analyse_before_save, sender=model, dispatch_uid=f"analyse-{model}")
        pre_save.connect(first_review_date, sender=model, dispatch_uid=f"review-{model}")
        post_save.connect(
            analyse_after_partial_save, sender=model, dispatch_uid=f"analyse-partial-{model}"
        )
    # Synonyms are applied to queries, per content version: an edit is a new version too.
    for model in (Article, ResponseCode, Category, SynonymGroup):
        post_save.connect(content_changed, sender=model, dispatch_uid=f"search-save-{model}")
        post_delete.connect(content_changed, sender=model, dispatch_uid=f"search-del-{model}")
    for through in (Article.codes.through, Article.related.through):
        m2m_changed.connect(content_changed, sender=through, dispatch_uid=f"search-m2m-{through}")
    m2m_changed.connect(
        article_codes_changed, sender=Article.codes.through, dispatch_uid="search-article-codes"
    )
    post_save.connect(announcements_changed, sender=Announcement, dispatch_uid="ann-save")
    post_delete.connect(announcements_changed, sender=Announcement, dispatch_uid="ann-del")
