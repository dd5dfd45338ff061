"""Privacy-safe gap logging, aggregated per local day and written in batches.

Searches and unknown codes are counted in the process, like the look-up counter
(knowledge.services.code_record_lookup): one UPDATE (or INSERT) per distinct key every
KNOWLEDGE_GAP_BATCH events or KNOWLEDGE_GAP_FLUSH_SECONDS, never a write per request; the
content-gap page flushes its own process first. Nothing about the
visitor is kept (no user, address, cookie or session); the query text is normalised and
scrubbed of card numbers *before* it is even held in memory. Wizard paths are counted where the
wizard already writes its run (diagnosis.wizard.runs), one more row update beside its rollup.
"""

import atexit
import contextlib
import re
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from config import versions
from diagnosis.core.cards import scrub_text
from knowledge.models import SearchQueryDay, UnknownCodeDay, WizardPathDay

QUERY_MAX = 200
VERSION_KEY = "knowledge:gaps-version"  # replaced whenever counts are written (the report cache)
CODE_RE = re.compile(r"^[0-9A-Z]{2}$")

_lock = threading.Lock()
_searches: dict[tuple, dict] = defaultdict(lambda: {"searches": 0, "empty": 0, "opened": 0})
_codes: dict[tuple, int] = defaultdict(int)
_state = {"events": 0, "flushed": time.monotonic()}


def today():
    return timezone.localtime(timezone.now(), timezone.get_default_timezone()).date()


def query_key(query) -> str:
    """The stored form of a query: whitespace collapsed, lower-cased, scrubbed, cut to 200."""
    text = " ".join(str(query or "").split()).lower()
    return scrub_text(text)[:QUERY_MAX].strip()


def lang_key(lang) -> str:
    return "en" if str(lang or "").lower().startswith("en") else "zh"


def code_key(code) -> str:
    """A typed code in its stored form, or "" when it does not look like a response code."""
    text = str(code or "").strip().upper()
    return text if CODE_RE.match(text) else ""


def _counted():
    _state["events"] += 1
    return (
        _state["events"] >= settings.KNOWLEDGE_GAP_BATCH
        or time.monotonic() - _state["flushed"] >= settings.KNOWLEDGE_GAP_FLUSH_SECONDS
    )


def search_record(*, query, lang, results: int) -> None:
    """Count one search (the search page or its live results) and its number of results."""
    key = query_key(query)
    if not key:
        return
    with _lock:
        row = _searches[(today(), lang_key(lang), key)]
        row["searches"] += 1
        row["empty"] += 0 if results else 1
        row["results"] = int(results)
        due = _counted()
    if due:
        flush()


def search_result_opened(*, query, lang) -> None:
    """Count a result opened from a search (the result links go through knowledge:search_open)."""
    key = query_key(query)
    if not key:
        return
    with _lock:
        _searches[(today(), lang_key(lang), key)]["opened"] += 1
        due = _counted()
    if due:
        flush()


def unknown_code_record(*, code, source: str) -> None:
    """Count a code typed that no ResponseCode has (source: an UnknownCodeDay.Source value)."""
    key = code_key(code)
    if not key:
        return
    with _lock:
        _codes[(today(), key, source)] += 1
        due = _counted()
    if due:
        flush()


def discard() -> None:
    """Forget what was counted and not yet written (tests: nothing leaks into the next test)."""
    with _lock:
        _searches.clear()
        _codes.clear()
        _state["events"] = 0
        _state["flushed"] = time.monotonic()


def changed(**kwargs) -> None:
    """New counts or votes are stored: every process forgets its cached content-gap reports."""
    versions.bump(VERSION_KEY)


def version() -> str:
    return versions.current(VERSION_KEY)


def connect():
    """A vote ("not helpful" and its comment) is on the report at once."""
    from django.db.models.signals import post_delete, post_save

    from knowledge.models import ArticleVote

    post_save.connect(changed, sender=ArticleVote, dispatch_uid="gaps-vote-save")
    post_delete.connect(changed, sender=ArticleVote, dispatch_uid="gaps-vote-delete")


def _add(model, key: dict, **deltas):
    """Add to the row with `key`, else insert it (as diagnosis.insight.rollups does)."""
    extra = deltas.pop("_set", {})
    deltas = {name: value for name, value in deltas.items() if value}
    if not deltas and not extra:
        return
    one = model.objects.filter(**key).values("pk")[:1]
    updates = {name: F(name) + value for name, value in deltas.items()}
    updated = model.objects.filter(pk__in=one).update(**updates, **extra)
    if not updated:
        model.objects.create(**key, **deltas, **extra)


def flush() -> int:
    """Write what was counted; the number of rows touched."""
    with _lock:
        searches = dict(_searches)
        codes = dict(_codes)
        _searches.clear()
        _codes.clear()
        _state["events"] = 0
        _state["flushed"] = time.monotonic()
    for (day, lang, query), row in sorted(searches.items()):
        extra = {"_set": {"results": row["results"]}} if "results" in row else {}
        _add(
            SearchQueryDay,
            {"day": day, "lang": lang, "query": query},
            searches=row["searches"],
            empty=row["empty"],
            opened=row["opened"],
            **extra,
        )
    for (day, code, source), count in sorted(codes.items()):
        _add(UnknownCodeDay, {"day": day, "code": code, "source": source}, count=count)
    if searches or codes:
        changed()
    return len(searches) + len(codes)


def _flush_at_exit():
    with contextlib.suppress(Exception):
        flush()


atexit.register(_flush_at_exit)


# --- wizard ----------------------------------------------------------------------------------
def _run_day(run):
    return timezone.localtime(run.created_at, timezone.get_default_timezone()).date()


def wizard_run_added(run) -> None:
    _add(
        WizardPathDay,
        {"day": _run_day(run), "outcome": run.outcome, "path": run.path},
        reached=1,
        not_solved=1 if run.solved is False else 0,
    )
    changed()


def wizard_vote_changed(run, old, new) -> None:
    delta = (1 if new is False else 0) - (1 if old is False else 0)
    if delta:
        _add(
            WizardPathDay,
            {"day": _run_day(run), "outcome": run.outcome, "path": run.path},
            not_solved=delta,
        )
        changed()
