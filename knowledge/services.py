"""Writes with rules: revisions, restoring a revision, lookups counter, votes."""

import atexit
import contextlib
import hashlib
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F

from diagnosis.core.cards import scrub_text
from knowledge.loading import ARTICLE_FIELDS, LANG_KEYS, article_snapshot
from knowledge.models import Article, ArticleRevision, ArticleVote, Category, ResponseCode

logger = logging.getLogger(__name__)

VOTE_RATE_LIMIT = 20  # votes per IP address an hour, unless VOTE_RATE says otherwise


# --- revisions -------------------------------------------------------------------------------
def article_revision_create(*, article, author, changed_fields) -> ArticleRevision:
    return ArticleRevision.objects.create(
        article=article,
        author=author if getattr(author, "is_authenticated", False) else None,
        changed_fields=list(changed_fields),
        data=article_snapshot(article),
    )


def revision_changes(revision, previous_data) -> list[dict]:
    """[{field, before, after}] between a snapshot and the one before it (for the history)."""
    changes = []
    for name in revision.changed_fields:
        changes.append(
            {
                "field": name,
                "before": (previous_data or {}).get(name, ""),
                "after": revision.data.get(name, ""),
            }
        )
    return changes


@transaction.atomic
def article_revision_restore(*, revision, author) -> ArticleRevision:
    """Put the article back to a snapshot; the restore is itself a new revision."""
    article = Article.objects.select_for_update().get(pk=revision.article_id)
    return article_snapshot_apply(article=article, data=revision.data, author=author)


def article_snapshot_apply(*, article, data, author) -> ArticleRevision:
    """Give `article` the values of a snapshot (all of it, or some keys: restores, approved
    changes) through its own save, so search analysis, index and page cache follow; recorded as
    a new revision. Call inside a transaction with the article locked."""
    before = article_snapshot(article)
    for name in ARTICLE_FIELDS:
        for suffix in LANG_KEYS:
            key = f"{name}_{suffix}"
            if key in data:
                setattr(article, key, data[key])
    if data.get("status") in Article.Status.values:
        article.status = data["status"]
    if "category" in data:
        category = Category.objects.filter(key=data["category"]).first()
        if category is not None:
            article.category = category
    article.save()
    if "codes" in data:
        article.codes.set(ResponseCode.objects.filter(code__in=data["codes"]))
    if "related" in data:
        article.related.set(Article.objects.filter(slug__in=data["related"]).exclude(pk=article.pk))
    after = article_snapshot(article)
    changed = sorted(k for k in after if before.get(k) != after[k])
    return article_revision_create(article=article, author=author, changed_fields=changed)


# --- lookups ---------------------------------------------------------------------------------
# Look-ups are counted in the process and written in batches: one UPDATE per code every
# KNOWLEDGE_LOOKUP_BATCH look-ups or LOOKUP_FLUSH_SECONDS, instead of a write on every page
# view (the code page is served from the page cache). A process that dies loses at most one
# batch of counts; popularity does not need more precision than that. A flush the database
# refuses keeps its counts for the next one.
LOOKUP_FLUSH_SECONDS = 30
_lookups = Counter()
_lookups_lock = threading.Lock()
_lookups_flushed = [time.monotonic()]


def code_record_lookup(*, code) -> None:
    """Count a look-up of a code (a ResponseCode or its code string)."""
    key = code.code if isinstance(code, ResponseCode) else str(code).upper()
    with _lookups_lock:
        _lookups[key] += 1
        due = (
            sum(_lookups.values()) >= settings.KNOWLEDGE_LOOKUP_BATCH
            or time.monotonic() - _lookups_flushed[0] >= LOOKUP_FLUSH_SECONDS
        )
    if due:
        lookups_flush()


def lookups_flush() -> int:
    """Write the counted look-ups (UPDATE without save(): no signals, updated_at untouched);
    the number of codes written. Counts the database refused stay in the batch (next flush)."""
    with _lookups_lock:
        pending = dict(_lookups)
        _lookups.clear()
        _lookups_flushed[0] = time.monotonic()
    written = 0
    try:
        for key, count in sorted(pending.items()):
            ResponseCode.objects.filter(code=key).update(lookups=F("lookups") + count)
            del pending[key]
            written += 1
    except DatabaseError:
        # The database blinked: keep the counts not written (merged with any counted meanwhile)
        # for the next flush, and let the page that triggered this one be served.
        with _lookups_lock:
            _lookups.update(pending)
        logger.warning("Look-up counts kept for the next flush: the database did not answer")
    return written


def _flush_at_exit():
    # The database may already be gone at interpreter exit: then the batch is lost.
    with contextlib.suppress(Exception):
        lookups_flush()


atexit.register(_flush_at_exit)


# --- votes -----------------------------------------------------------------------------------
def _hash(value: str) -> str:
    return hashlib.sha256(f"{settings.SECRET_KEY}:{value}".encode()).hexdigest()


def voter_key(*, user=None, visitor_id: str = "") -> str:
    """A stable, non-reversible key for one visitor: the account, else the visitor cookie."""
    if user is not None and user.is_authenticated:
        return _hash(f"user:{user.pk}")
    return _hash(f"visitor:{visitor_id}")


def vote_rate_limited(request) -> bool:
    """True when the visitor's address has used up its votes (VOTE_RATE, default 20 an hour),
    counted on the shared rate-limit cache (diagnosis.core.ratelimits)."""
    from diagnosis.core.ratelimits import RateLimited, address_key, check_rate, rate_setting

    try:
        check_rate(
            request,
            group="knowledge-vote",
            key=address_key(request),
            rate=rate_setting("VOTE_RATE", f"{VOTE_RATE_LIMIT}/h"),
        )
    except RateLimited:
        return True
    return False


@dataclass
class VoteOutcome:
    recorded: bool
    already_voted: bool = False
    vote: ArticleVote | None = None


def article_vote(*, article, key: str, helpful: bool, comment: str = "") -> VoteOutcome:
    """One vote per visitor per article; the comment is scrubbed of card numbers first."""
    comment = scrub_text((comment or "").strip())[:1000]
    try:
        with transaction.atomic():
            vote = ArticleVote(article=article, voter_key=key, helpful=helpful, comment=comment)
            vote.full_clean(exclude=["article"])
            vote.save()
    except IntegrityError:
        return VoteOutcome(recorded=False, already_voted=True)
    counter = "helpful_yes" if helpful else "helpful_no"
    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
    return VoteOutcome(recorded=True, vote=vote)


def has_voted(*, article, key: str) -> bool:
    return ArticleVote.objects.filter(article=article, voter_key=key).exists()
