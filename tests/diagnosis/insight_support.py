"""Helpers of the decline-insight tests: categories, tickets at given times, stream replay."""

import datetime as dt

from django.utils import timezone

from diagnosis.insight.detection import detect_after_ticket
from knowledge.models import Category
from tests import factories

T0 = dt.datetime(2026, 3, 2, 14, 5, tzinfo=dt.UTC)  # a Monday, 22:05 in Shanghai


def categories() -> dict:
    found = {}
    for position, key in enumerate(
        ["funds_limits", "card_status", "terminal", "network", "issuer_system"], 1
    ):
        found[key] = Category.objects.get_or_create(
            key=key,
            defaults={"name_zh": f"分类{key}", "name_en": f"Cat {key}", "position": position},
        )[0]
    return found


def ticket_at(merchant, when, *, category=None, card="1234", tid=None, code="91", **kw):
    """A ticket recorded through the service as if submitted at `when`."""
    user = kw.pop("user", None) or factories.merchant_user(merchant=merchant)
    return factories.ticket(
        merchant=merchant,
        user=user,
        now=when,
        transaction_time=kw.pop("transaction_time", when - dt.timedelta(minutes=1)),
        category=category,
        card_number=card,
        response_code=code,
        **({"tid": tid} if tid else {}),
        **kw,
    )


def replay(stream, cats):
    """Record each (merchant, minute offset from T0, category key) ticket in order and run the
    inline detection after each, as `ticket_create`'s on_commit hook does. Returns the tickets."""
    tickets = []
    for merchant, minutes, key in stream:
        ticket = ticket_at(merchant, T0 + dt.timedelta(minutes=minutes), category=cats[key])
        detect_after_ticket(ticket.pk)
        tickets.append(ticket)
    return tickets


def merchants_of(bank, count):
    return [factories.merchant(acquirer=bank) for _ in range(count)]


def now():
    return timezone.now()


def open_incident(bank, *, merchants=3):
    """An open incident at `bank`: one issuer-system ticket a minute from `merchants` merchants,
    the first 20 minutes ago, all linked."""
    from diagnosis.models import Incident

    cats = categories()
    started = timezone.localtime(timezone.now() - dt.timedelta(minutes=20)).replace(
        second=0, microsecond=0
    )
    tickets = [
        ticket_at(m, started + dt.timedelta(minutes=i), category=cats["issuer_system"])
        for i, m in enumerate(factories.merchant(acquirer=bank) for _ in range(merchants))
    ]
    found = Incident.objects.create(
        acquirer=bank,
        started_at=started,
        last_ticket_at=tickets[-1].created_at,
        merchant_count=merchants,
    )
    found.tickets.add(*tickets)
    return found
