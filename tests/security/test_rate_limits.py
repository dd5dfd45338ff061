"""Rate limits (issue 14, point 7): ticket creation per merchant and per API token, password-reset
mail per address and per account, votes per address — on a counter shared by every process
(the database table here; Redis in production), answered with a bilingual 429 page or JSON."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache, caches
from django.test import Client
from django.utils import timezone

from diagnosis.models import Ticket
from diagnosis.tickets.api_tokens import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db


def api_post(token, n):
    body = {
        "terminal_id": "ABCD1234",
        "transaction_time": (timezone.now() - timedelta(hours=1)).isoformat(),
        "amount": f"{10 + n}.00",
        "rrn": f"{n:012d}",
    }
    return Client().post(
        "/api/v1/tickets",
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_api_ticket_creation_is_limited_per_merchant_with_a_json_429(
    settings, merchant_user, django_capture_on_commit_callbacks
):
    settings.TICKET_CREATE_RATE = "5/m"
    factories.agent()  # each new ticket mails every agent: the limit caps the mail too
    _token, raw = api_token_create(user=merchant_user)
    with django_capture_on_commit_callbacks(execute=True):
        answers = [api_post(raw, n) for n in range(8)]
    assert [a.status_code for a in answers] == [201] * 5 + [429] * 3
    limited = answers[-1]
    assert limited["Content-Type"].startswith("application/json")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1
    assert Ticket.objects.count() == 5
    assert len(mail.outbox) == 5
    english = Client().post(
        "/api/v1/tickets?lang=en",
        "{}",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {raw}",
    )
    assert english.status_code in (400, 429)


def test_a_second_token_of_the_same_merchant_does_not_get_around_the_limit(settings, merchant_user):
    settings.TICKET_CREATE_RATE = "3/m"
    other = factories.merchant_user(merchant=merchant_user.merchant)
    _t1, raw1 = api_token_create(user=merchant_user)
    _t2, raw2 = api_token_create(user=other)
    codes = [api_post(raw1, n).status_code for n in range(2)]
    codes += [api_post(raw2, n + 10).status_code for n in range(3)]
    assert codes == [201, 201, 201, 429, 429]


def test_the_counter_survives_the_page_cache_being_cleared(settings, merchant_user):
    settings.TICKET_CREATE_RATE = "2/m"
    _token, raw = api_token_create(user=merchant_user)
    assert api_post(raw, 1).status_code == 201
    cache.clear()  # the local-memory page cache: the counters are not in it
    assert api_post(raw, 2).status_code == 201
    cache.clear()
    assert api_post(raw, 3).status_code == 429


def test_the_ticket_form_answers_a_bilingual_429_page(settings, merchant_user):
    settings.TICKET_CREATE_RATE = "1/m"
    client = Client()
    factories.sign_in(client, merchant_user)
    form = {
        "tid": "ABCD1234",
        "transaction_time": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        "amount": "12.00",
        "currency": "CNY",
        "card_type": "unknown",
    }
    assert client.post("/tickets/new/", {**form, "rrn": "000000000001"}).status_code == 302
    zh = client.post("/tickets/new/", {**form, "rrn": "000000000002"})
    assert zh.status_code == 429 and "操作太频繁" in zh.content.decode()
    en = client.post("/en/tickets/new/", {**form, "rrn": "000000000003"})
    assert en.status_code == 429 and "Too many requests" in en.content.decode()
    assert Ticket.objects.count() == 1


def test_password_reset_mail_is_limited_per_account_and_per_address(settings, merchant_user):
    settings.PASSWORD_RESET_RATE = "3/h"
    email = merchant_user.email
    codes = [
        Client()
        .post("/accounts/password/reset/", {"email": email}, REMOTE_ADDR=f"10.1.0.{n}")
        .status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]  # one account, from five addresses
    assert len(mail.outbox) == 3
    codes = [
        Client()
        .post("/accounts/password/reset/", {"email": f"x{n}@example.com"}, REMOTE_ADDR="10.2.0.1")
        .status_code
        for n in range(5)
    ]
    assert codes == [302, 302, 302, 429, 429]  # one address, five accounts


def test_the_shared_counter_is_atomic_and_not_the_page_cache(settings):
    counters = caches["ratelimit"]
    assert settings.CACHES["ratelimit"]["BACKEND"] == "config.cache_backends.CounterCache"
    assert counters.add("k", 1, 60) is True
    assert counters.add("k", 1, 60) is False  # a live counter is never replaced by add
    assert [counters.incr("k") for _ in range(3)] == [2, 3, 4]
    assert counters.get("k") == 4
    counters.set("old", 7, -1)  # already expired
    assert counters.add("old", 1, 60) is True and counters.get("old") == 1
    with pytest.raises(ValueError):
        counters.incr("missing")
