"""The live desk: a version token for "some ticket changed", and who is on a ticket page.

- `tickets_changed()` replaces the desk's version token (config/versions.py) whenever a ticket's
  timeline gets an event (every service write goes through `services._event`). The queue's
  polling request is answered 304 while the token, the filters, the user and the five-minute
  slot (SLA badges move with time) are the same: no ticket is read.
- presence: each open agent ticket page sends a heartbeat (viewing / replying) every few
  seconds; the shared cache keeps, per ticket, who sent one in the last PRESENCE_SECONDS.
  Nothing is written to the database.
"""

import hashlib
import re
import time

from django.core.cache import cache

from config import versions

VERSION_KEY = "desk:tickets-version"
PRESENCE_SECONDS = 30  # a heartbeat older than this no longer counts
POLL_SLOT_SECONDS = 300
VIEWING, REPLYING = "viewing", "replying"


def tickets_changed() -> None:
    versions.bump(VERSION_KEY)


def _ticket_saved(**kwargs) -> None:
    tickets_changed()


def connect() -> None:
    """A ticket written outside the services (the admin, an import, a script) changes the
    version too: the queue's cached table and its polling ETag never outlive a change."""
    from django.db.models.signals import post_delete, post_save

    from diagnosis.models import Ticket

    post_save.connect(_ticket_saved, sender=Ticket, dispatch_uid="desk-live-ticket-save")
    post_delete.connect(_ticket_saved, sender=Ticket, dispatch_uid="desk-live-ticket-delete")


def tickets_version() -> str:
    return versions.current(VERSION_KEY)


def _slot(now=None) -> int:
    """The five-minute slot: SLA badges move with time, so a page is the same only within one."""
    return int((now or time.time()) // POLL_SLOT_SECONDS)


def queue_etag(*, user_pk, query: str, language: str, now=None) -> str:
    """The polling request's weak ETag: same value ⇔ the page would be the same."""
    raw = f"{tickets_version()}|{user_pk}|{language}|{_slot(now)}|{query}"
    return 'W/"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")([^"]+)(")')
CSRF_PLACEHOLDER = "__desk_csrf_token__"


def results_key(*, request, language: str, agents_signature: str, now=None) -> str | None:
    """The cache key of the queue's table for this request, or None when it must be rendered.

    Everything the table shows goes into it: the tickets version (any ticket written replaces
    it), the five-minute slot (SLA badges move with time, as for the polling ETag), the whole
    query (filters and cursor), the agent ("assigned to me"), the language and the agents in
    the bulk form. The bulk form's CSRF token is not: it is kept as a placeholder and filled in
    for each request (`results_store` / `results_fill`). Not kept at all: a polling request
    that marks the rows changed since the agent's last look (X-Desk-Seen).
    """
    if seen_at(request) is not None:
        return None
    raw = "|".join(
        (
            tickets_version(),
            str(_slot(now)),
            str(request.user.pk),
            language,
            request.GET.urlencode(),
            agents_signature,
        )
    )
    return "desk:queue-results:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def results_store(key: str, html: str) -> None:
    """Keep a rendered table, its CSRF tokens replaced by the placeholder."""
    cache.set(key, CSRF_INPUT.sub(rf"\g<1>{CSRF_PLACEHOLDER}\g<3>", html), POLL_SLOT_SECONDS)


def results_fill(html: str, request) -> str:
    """A kept table with this request's CSRF token."""
    from django.middleware.csrf import get_token

    return html.replace(CSRF_PLACEHOLDER, get_token(request))


def _presence_key(ticket_pk) -> str:
    return f"desk:presence:{ticket_pk}"


def presence_beat(*, ticket_pk, user, state=VIEWING, now=None) -> list[dict]:
    """Record `user` on the ticket page; return the OTHER agents there now."""
    now = now or time.time()
    key = _presence_key(ticket_pk)
    present = {
        pk: entry
        for pk, entry in (cache.get(key) or {}).items()
        if now - entry["at"] <= PRESENCE_SECONDS
    }
    present[user.pk] = {
        "name": user.get_full_name() or user.get_username(),
        "state": REPLYING if state == REPLYING else VIEWING,
        "at": now,
    }
    cache.set(key, present, PRESENCE_SECONDS * 4)
    return sorted(
        (entry for pk, entry in present.items() if pk != user.pk), key=lambda e: e["name"]
    )


def seen_at(request):
    """When the polling page was rendered (X-Desk-Seen, epoch seconds): rows changed after it are
    marked. None for an ordinary request."""
    from datetime import UTC, datetime

    raw = request.headers.get("X-Desk-Seen", "")
    if not raw.isdigit() or len(raw) > 12:
        return None
    return datetime.fromtimestamp(int(raw), tz=UTC)
