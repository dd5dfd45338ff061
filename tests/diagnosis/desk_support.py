"""Helpers for the desk and escalation tests: tickets made directly with the ORM (fast, exact)."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from diagnosis.models import Ticket
from tests import factories

_seq = itertools.count(1)


def make_ticket(*, merchant=None, **kwargs) -> Ticket:
    """A ticket as the ticket service would have stored it (masked card, due time set)."""
    n = next(_seq)
    merchant = merchant or factories.merchant()
    now = timezone.now()
    created = kwargs.pop("created_at", now - timedelta(minutes=n))
    defaults = {
        "number": f"DD-2099-{n:06d}",
        "merchant": merchant,
        "acquirer": merchant.acquirer,
        "tid": f"T{n:07d}",
        "transaction_time": created - timedelta(minutes=5),
        "amount": Decimal("128.50"),
        "currency": "CNY",
        "card_masked": "622848******1234",
        "response_code": "51",
        "rrn": f"{n:012d}",
        "trace_number": f"{n % 1000000:06d}",
        "batch_number": "000123",
        "description": "顾客刷卡提示交易拒绝",
        "created_at": created,
        "first_response_due": created + timedelta(hours=4),
    }
    defaults.update(kwargs)
    return Ticket.objects.create(**defaults)


def make_tickets(count: int, **kwargs) -> list[Ticket]:
    return [make_ticket(**kwargs) for _ in range(count)]
