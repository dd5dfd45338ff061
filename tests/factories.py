"""Small factories with unique defaults. Keep them dumb: tests say what matters to them."""

import itertools

from django.contrib.auth.models import Group

from diagnosis.core.roles import KNOWLEDGE_EDITORS, SUPPORT_AGENTS
from diagnosis.models import Bank, Merchant, Terminal, User

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def bank(**kwargs) -> Bank:
    n = next(_seq)
    defaults = {"code": f"bank{n}", "name_zh": f"测试银行{n}", "name_en": f"Test Bank {n}"}
    return Bank.objects.create(**{**defaults, **kwargs})


def merchant(**kwargs) -> Merchant:
    n = next(_seq)
    defaults = {"name": f"测试商户 {n}", "mid": f"{898000000000000 + n:015d}"}
    if "acquirer" not in kwargs:
        defaults["acquirer"] = bank()
    return Merchant.objects.create(**{**defaults, **kwargs})


def terminal(**kwargs) -> Terminal:
    n = next(_seq)
    defaults = {"tid": f"{n:08d}", "model": "PAX A920", "location": "收银台"}
    if "merchant" not in kwargs:
        defaults["merchant"] = merchant()
    return Terminal.objects.create(**{**defaults, **kwargs})


def user(*, groups=(), password=PASSWORD, **kwargs) -> User:
    n = next(_seq)
    defaults = {"username": f"user{n}", "email": f"user{n}@example.com"}
    account = User(**{**defaults, **kwargs})
    account.set_password(password)
    account.save()
    for name in groups:
        account.groups.add(Group.objects.get(name=name))
    return account


def merchant_user(**kwargs) -> User:
    if "merchant" not in kwargs:
        kwargs["merchant"] = merchant()
    return user(**kwargs)


def agent(**kwargs) -> User:
    return user(groups=[SUPPORT_AGENTS], **kwargs)


def editor(**kwargs) -> User:
    return user(groups=[KNOWLEDGE_EDITORS], is_staff=True, **kwargs)


def ticket(*, merchant=None, user=None, **kwargs):
    """A ticket recorded through the ticket service (numbered, masked, with its CREATED event)."""
    from datetime import timedelta

    from django.utils import timezone

    from diagnosis.tickets.services import ticket_create

    if user is None:
        user = merchant_user(merchant=merchant) if merchant else merchant_user()
    merchant = merchant or user.merchant
    n = next(_seq)
    defaults = {
        "tid": f"{n:08d}",
        "transaction_time": timezone.now() - timedelta(hours=1),
        "amount": "128.50",
        "card_number": "1234",
        "response_code": "51",
        "rrn": f"{n:012d}",
        "description": "顾客刷卡提示交易拒绝",
    }
    return ticket_create(merchant=merchant, user=user, **{**defaults, **kwargs})
