"""Card data rules, proven with generated card numbers (PRODUCT.md, issue 5).

A full card number (13–19 digits, spaces or dashes allowed) typed into the card field, the
description or a reply, or sent to the API, must not survive in the database, an email, a log
line or any response — including a form re-displayed with errors and the API's echo.
"""

import io
import itertools
import json
import logging
import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnosis.core.cards import luhn_valid
from diagnosis.tickets.api_tokens import api_token_create
from diagnosis.tickets.services import ticket_reply
from tests import factories
from tests.diagnosis.ticket_pages_support import form_data

HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_rrn = itertools.count(100000000000)


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw):
    """(digits, as typed): UnionPay-style (starts with 62) or Luhn-valid, 13–19 digits."""
    length = draw(st.integers(13, 19))
    if draw(st.booleans()):
        rest = draw(st.text("0123456789", min_size=length - 2, max_size=length - 2))
        digits = "62" + rest
    else:
        first = draw(st.sampled_from("3456"))
        body = draw(st.text("0123456789", min_size=length - 2, max_size=length - 2))
        digits = _luhn_complete(first + body)
    separators = draw(
        st.lists(st.sampled_from(["", "", " ", "-"]), min_size=length - 1, max_size=length - 1)
    )
    typed = digits[0] + "".join(
        sep + digit for sep, digit in zip(separators, digits[1:], strict=True)
    )
    return digits, typed


filler = st.text(alphabet=st.sampled_from(list("abcXYZ 顾客刷卡被拒，。:#()")), max_size=20)


@st.composite
def card_in_text(draw):
    digits, typed = draw(card_numbers())
    return digits, typed, f"{draw(filler)} {typed} {draw(filler)}".strip()


def assert_no_card(text, digits, typed):
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    assert digits not in text
    assert typed not in text
    assert digits not in re.sub(r"[ \-]", "", text)


def database_dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", "diagnosis", stdout=out)
    return out.getvalue()


def all_mail() -> str:
    return "\n".join(f"{m.subject}\n{m.body}" for m in mail.outbox)


@contextmanager
def production_log_output():
    """The configured console handlers (with their card filter), writing into a buffer."""
    buffer = io.StringIO()
    handlers = {h for name in ("", "django") for h in logging.getLogger(name).handlers}
    streams = [(h, h.setStream(buffer)) for h in handlers if isinstance(h, logging.StreamHandler)]
    try:
        yield buffer
    finally:
        for handler, stream in streams:
            handler.setStream(stream)


@pytest.fixture
def merchant_client(client, merchant_user):
    factories.sign_in(client, merchant_user)
    return client


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_strategy_generates_what_the_rules_cover():
    from diagnosis.core.cards import looks_like_card_number

    @given(card_numbers())
    @settings(max_examples=200)
    def check(card):
        digits, typed = card
        assert 13 <= len(digits) <= 19 and looks_like_card_number(digits)
        assert re.sub(r"[ \-]", "", typed) == digits

    check()


@pytest.mark.django_db
@HYPOTHESIS
@given(card=card_numbers(), text=card_in_text())
def test_form_with_errors_never_echoes_a_card(merchant_client, card, text):
    digits, typed = card
    text_digits, text_typed, description = text
    data = form_data(
        amount="0",  # forces the form to be re-displayed with errors
        card_number=typed,
        description=description,
        rrn=text_typed[:12],
        tid=text_typed,
    )
    with production_log_output() as logs:
        response = merchant_client.post("/tickets/new/", data)
    assert response.status_code == 200 and "金额必须大于 0。" in response.content.decode()
    for d, t in ((digits, typed), (text_digits, text_typed)):
        assert_no_card(response.content, d, t)
        assert_no_card(logs.getvalue(), d, t)
    assert digits[:6] in response.content.decode()  # shown masked, not lost


@pytest.mark.django_db
@HYPOTHESIS
@given(card=card_numbers(), text=card_in_text())
def test_saved_ticket_never_holds_a_card(merchant_client, agent, on_commit, card, text):
    digits, typed = card
    text_digits, text_typed, description = text
    mail.outbox.clear()
    data = form_data(
        card_number=typed,
        description=description,
        rrn=f"{next(_rrn)}",
        confirm_duplicates="on",
    )
    with on_commit(execute=True), production_log_output() as logs:
        response = merchant_client.post("/tickets/new/", data)
        assert response.status_code == 302
        page = merchant_client.get(response["Location"])
        listing = merchant_client.get("/tickets/")
    dump = database_dump()
    assert mail.outbox, "agents are told about the new ticket"
    for d, t in ((digits, typed), (text_digits, text_typed)):
        for where in (dump, all_mail(), page.content, listing.content, logs.getvalue()):
            assert_no_card(where, d, t)
    assert digits[:6] + "*" in dump and digits[-4:] in dump


@pytest.mark.django_db
@HYPOTHESIS
@given(text=card_in_text())
def test_replies_never_hold_a_card(ticket, agent, merchant_user, on_commit, text):
    digits, typed, body = text
    mail.outbox.clear()
    with on_commit(execute=True):
        ticket_reply(ticket=ticket, author=agent, body=body)
        ticket_reply(ticket=ticket, author=agent, body=body, internal=True)
        ticket_reply(ticket=ticket, author=merchant_user, body=body)
    client = Client()
    factories.sign_in(client, merchant_user)
    page = client.get(ticket.get_absolute_url())
    assert mail.outbox  # the merchant was emailed the agent's reply
    for where in (database_dump(), all_mail(), page.content):
        assert_no_card(where, digits, typed)


@pytest.mark.django_db
@HYPOTHESIS
@given(card=card_numbers(), text=card_in_text(), valid=st.booleans())
def test_api_never_stores_or_echoes_a_card(merchant_user, card, text, valid):
    digits, typed = card
    text_digits, text_typed, description = text
    _token, raw = api_token_create(user=merchant_user)
    body = {
        "terminal_id": "ABCD1234",
        "transaction_time": (timezone.now() - timedelta(hours=1)).isoformat(),
        "amount": "10.00" if valid else "-1",
        "card_number": typed,
        "description": description,
        "rrn": text_typed if not valid else f"{next(_rrn)}",
    }
    client = Client()
    with production_log_output() as logs:
        response = client.post(
            "/api/v1/tickets",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        listing = client.get("/api/v1/tickets", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == (201 if valid else 400)
    if valid:
        assert response.json()["card_masked"] == digits[:6] + "*" * (len(digits) - 10) + digits[-4:]
    for d, t in ((digits, typed), (text_digits, text_typed)):
        for where in (response.content, listing.content, database_dump(), logs.getvalue()):
            assert_no_card(where, d, t)


@pytest.mark.django_db
def test_card_in_a_url_is_masked_in_the_logs(merchant_client):
    with production_log_output() as logs:
        # diagnosis.core.middleware.CardNumberURLMiddleware redirects to the masked URL first.
        merchant_client.get("/tickets/6228480402564890018/", follow=True)
    assert "Not Found" in logs.getvalue()
    assert_no_card(logs.getvalue(), "6228480402564890018", "6228480402564890018")


def test_no_cvv_pin_or_expiry_field_anywhere():
    from diagnosis.models import Ticket
    from diagnosis.tickets.forms import ApiTicketForm, TicketForm

    names = set(TicketForm.base_fields) | set(ApiTicketForm.base_fields)
    names |= {field.name for field in Ticket._meta.get_fields()}
    for forbidden in ("cvv", "cvn", "cvc", "pin", "expiry", "expiration", "exp_date"):
        assert not any(forbidden in name.lower() for name in names), forbidden


@pytest.mark.django_db
def test_factories_ticket_masks(merchant_user):
    ticket = factories.ticket(merchant=merchant_user.merchant, card_number="4111 1111 1111 1111")
    assert ticket.card_masked == "411111******1111"


@pytest.mark.django_db
def test_a_uuid_in_a_url_is_an_id_not_a_card_number(client):
    """About one UUID in a hundred holds a Luhn-valid digit run across its dashes (here
    3481231225334): the task results' admin URLs must reach their page, not a masked one;
    a card number beside it is still masked."""
    from diagnosis.core.cards import scrub_text

    uuid = "09efadf8-5064-4121-a1e3-481231225334"
    assert scrub_text(uuid) != uuid  # the run would be masked on its own
    response = client.get(f"/admin/django_tasks_database/dbtaskresult/{uuid}/change/")
    assert response.status_code == 302 and uuid in response["Location"]
    assert "/admin/login/" in response["Location"]
    response = client.get(f"/tickets/{uuid}/?q=4111 1111 1111 1111")
    assert response.status_code == 302
    assert uuid in response["Location"] and "4111111111111111" not in response["Location"]
    assert "4111+1111+1111+1111" not in response["Location"]
