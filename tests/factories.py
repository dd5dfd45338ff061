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


def lead_editor(**kwargs) -> User:
    """An editor who publishes without review (knowledge.publish_article, given to the user)."""
    from django.contrib.auth.models import Permission

    lead = editor(**kwargs)
    lead.user_permissions.add(Permission.objects.get(codename="publish_article"))
    return type(lead).objects.get(pk=lead.pk)  # permissions are cached per instance


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


def sign_in(client, user):
    """Sign `user` in on the test client. Staff (and anyone with a device) also pass the second
    factor through the real code page, with a fresh one-time recovery code of their own device
    (an authenticator is set up for them first when they have none)."""
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from diagnosis.accounts import two_factor

    client.force_login(user)
    if not two_factor.needs_second_factor(user):
        return client
    if not two_factor.has_device(user):
        TOTPDevice.objects.create(user=user, name=two_factor.TOTP_NAME, confirmed=True)
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=two_factor.RECOVERY_NAME, defaults={"confirmed": True}
    )
    code = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=code)
    data = {"code": code}
    if getattr(client.handler, "enforce_csrf_checks", False):
        assert client.get("/accounts/two-factor/verify/").status_code == 200
        data["csrfmiddlewaretoken"] = client.cookies["csrftoken"].value
    response = client.post("/accounts/two-factor/verify/", data)
    assert response.status_code == 302, "the second factor was not accepted"
    return client
