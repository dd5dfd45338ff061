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
import time

from django.core.cache import cache

from config import versions

VERSION_KEY = "desk:tickets-version"
PRESENCE_SECONDS = 30  # a heartbeat older than this no longer counts
POLL_SLOT_SECONDS = 300
VIEWING, REPLYING = "viewing", "replying"


def tickets_changed() -> None:
    versions.bump(VERSION_KEY)


def tickets_version() -> str:
    return versions.current(VERSION_KEY)


def queue_etag(*, user_pk, query: str, language: str, now=None) -> str:
    """The polling request's weak ETag: same value ⇔ the page would be the same."""
    slot = int((now or time.time()) // POLL_SLOT_SECONDS)
    raw = f"{tickets_version()}|{user_pk}|{language}|{slot}|{query}"
    return 'W/"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


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
