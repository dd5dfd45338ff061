"""Terminal health: a terminal declining many *distinct* cards in a short window is likely faulty.

One card declined five times is a cardholder problem; five different cards declined on the same
terminal within an hour point at the terminal (reader, keys, sign-in). Thresholds:
TERMINAL_HEALTH_MIN_CARDS distinct `card_masked` values within TERMINAL_HEALTH_WINDOW_MINUTES of
`transaction_time`, ending now. Masked cards (first 6 + last 4, or last 4) can collide, so the
count is a lower bound of distinct cards — conservative, which suits a warning.

Health is per merchant + TID: only a merchant's own tickets count for a terminal of theirs. A
ticket whose TID is not one of its merchant's terminals is stored as an unregistered TID
(Ticket.terminal is empty); it counts for that merchant's (TID) alone, so tickets typed by one
merchant with another merchant's TID can never flag the other merchant's terminal.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from diagnosis.models import Ticket


def _since(now):
    return now - timedelta(minutes=settings.TERMINAL_HEALTH_WINDOW_MINUTES)


def _flagged(rows, limit: int) -> dict[str, int]:
    rows = (
        rows.exclude(card_masked="")
        .values("tid")
        .annotate(cards=Count("card_masked", distinct=True))
        .filter(cards__gte=settings.TERMINAL_HEALTH_MIN_CARDS)
        .order_by("tid")[:limit]
    )
    return {row["tid"]: row["cards"] for row in rows}


def flagged_terminals(pairs, *, now=None) -> dict[tuple[int, str], int]:
    """{(merchant id, tid): distinct cards} for the given (merchant id, tid) pairs that are
    flagged now (one query)."""
    pairs = {(merchant_id, tid) for merchant_id, tid in pairs if merchant_id and tid}
    if not pairs:
        return {}
    now = now or timezone.now()
    rows = (
        Ticket.objects.filter(
            merchant_id__in={m for m, _t in pairs},
            tid__in={t for _m, t in pairs},
            transaction_time__gte=_since(now),
            transaction_time__lte=now,
        )
        .exclude(card_masked="")
        .values("merchant_id", "tid")
        .annotate(cards=Count("card_masked", distinct=True))
        .filter(cards__gte=settings.TERMINAL_HEALTH_MIN_CARDS)
        .order_by("merchant_id", "tid")[: len(pairs)]
    )
    found = {(row["merchant_id"], row["tid"]): row["cards"] for row in rows}
    return {pair: cards for pair, cards in found.items() if pair in pairs}


def flagged_for_tickets(tickets, *, now=None) -> dict[tuple[int, str], int]:
    """The flagged (merchant id, tid) pairs among `tickets` (one query)."""
    return flagged_terminals(((t.merchant_id, t.tid) for t in tickets), now=now)


def is_flagged(ticket, flagged: dict) -> bool:
    return (ticket.merchant_id, ticket.tid) in flagged


def flagged_for_merchant(merchant_id, *, now=None) -> dict[str, int]:
    """The merchant's flagged terminals now (one query on the merchant index)."""
    if merchant_id is None:
        return {}
    now = now or timezone.now()
    return _flagged(
        Ticket.objects.filter(
            merchant_id=merchant_id,
            transaction_time__gte=_since(now),
            transaction_time__lte=now,
        ),
        50,
    )
