"""Terminal health: a terminal declining many *distinct* cards in a short window is likely faulty.

One card declined five times is a cardholder problem; five different cards declined on the same
terminal within an hour point at the terminal (reader, keys, sign-in). Thresholds:
TERMINAL_HEALTH_MIN_CARDS distinct `card_masked` values within TERMINAL_HEALTH_WINDOW_MINUTES of
`transaction_time`, ending now. Masked cards (first 6 + last 4, or last 4) can collide, so the
count is a lower bound of distinct cards — conservative, which suits a warning.
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


def flagged_tids(tids, *, now=None) -> dict[str, int]:
    """{tid: distinct cards} for the given terminals that are flagged now (one query)."""
    tids = sorted({t for t in tids if t})
    if not tids:
        return {}
    now = now or timezone.now()
    return _flagged(
        Ticket.objects.filter(
            tid__in=tids, transaction_time__gte=_since(now), transaction_time__lte=now
        ),
        len(tids),
    )


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
