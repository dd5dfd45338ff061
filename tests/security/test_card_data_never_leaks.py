"""Full card numbers go in through every input; none comes out anywhere.

Every form, the API, replies, internal notes, desk filters, the search box, URL query strings,
vote comments, attachment names, bank references and the login box receive full card numbers
(plain, spaced and dashed). Then every table of the database (every column of every row), the log
output as the project's console handler writes it (CardNumberLogFilter), sent emails, the CSV and
XLSX exports, the print page and every response (bodies and headers) are scanned: zero hits.
"""

import io
import json
import logging
import re
import zipfile
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from diagnosis.core.cards import CardNumberLogFilter
from tests import factories

CARDS = {
    "6228480402564890018": "6228480402564890018",  # UnionPay (starts with 62)
    "4111111111111111": "4111 1111 1111 1111",  # Visa test number, spaced
    "5500000000000004": "5500-0000-0000-0004",  # Mastercard test number, dashed
    "6212345678901232": "6212345678901232",
}
TYPED = list(CARDS.values())
SEPARATOR = re.compile(r"(?<=\d)[ \-\u00a0]+(?=\d)")
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def hits(text: str) -> list[str]:
    """The full card numbers present in `text`, also when spaced, dashed or URL-encoded."""
    found = []
    for variant in {text, unquote(text), unquote(text.replace("+", " "))}:
        joined = SEPARATOR.sub("", variant)
        found += [digits for digits in CARDS if digits in joined]
    return sorted(set(found))


class Recorder:
    """Collects every response body and header the test clients receive."""

    def __init__(self):
        self.texts = []

    def record(self, label, response):
        if getattr(response, "streaming", False):
            body = b"".join(response.streaming_content)
        else:
            body = response.content
        if response.get("Content-Type", "").startswith(
            "application/vnd.openxmlformats-officedocument"
        ):
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                body = b"".join(archive.read(name) for name in archive.namelist())
        headers = "\n".join(f"{k}: {v}" for k, v in response.items())
        self.texts.append((label, headers + "\n" + body.decode("utf-8", "replace")))
        return response


@pytest.fixture
def log_output():
    """A handler configured like the project's console handler (same filter), on every logger
    that the project's handlers sit on, at INFO (the production level)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CardNumberLogFilter())
    handler.setFormatter(logging.Formatter("{levelname} {name}: {message}", style="{"))
    loggers = [logging.getLogger(), logging.getLogger("django")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    yield stream
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def upload(name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def every_table_text() -> list[tuple[str, str]]:
    rows = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                rows.append((table, " | ".join(str(value) for value in row)))
    return rows


@pytest.mark.slow
@pytest.mark.django_db(transaction=False)
def test_full_card_numbers_never_leak(world, log_output, settings):
    settings.LOGGING_CONFIG = None
    rec = Recorder()
    a, b_card, c_card, d_card = TYPED
    merchant = Client()
    factories.sign_in(merchant, world.merchant_a)
    agent = Client()
    factories.sign_in(agent, world.agent)
    anonymous = Client()
    when = (timezone.localtime() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")

    # -- merchant: the ticket form (card field, free text, hidden wizard summary, file name) ---
    form = {
        "terminal": "",
        "tid": "ABCD1234",
        "transaction_time": when,
        "amount": "128.50",
        "currency": "CNY",
        "card_number": a,
        "card_type": "debit",
        "response_code": "51",
        "rrn": "123456789012",
        "trace_number": "000123",
        "batch_number": "000045",
        "description": f"卡号 {b_card} 被拒 / card {c_card}",
        "wizard_summary": f"诊断 {d_card}",
        "category": "",
    }
    response = rec.record(
        "new", merchant.post("/tickets/new/", {**form, "attachments": [upload(f"小票 {a}.jpg")]})
    )
    assert response.status_code == 302, response.content[:500]
    number = response["Location"].strip("/").split("/")[-1].split("#")[0]
    # The same form, invalid (bad amount): the page re-renders with what was typed, masked.
    rec.record("new-invalid", merchant.post("/tickets/new/", {**form, "amount": "-1"}))
    # Query strings (the wizard's hand-over) and a card where a ticket number goes.
    rec.record(
        "prefill",
        merchant.get(f"/tickets/new/?code=51&summary={quote(a)}&tid={quote(b_card)}", follow=True),
    )
    rec.record("404", merchant.get(f"/tickets/{quote(a)}/", follow=True))
    rec.record(
        "list", merchant.get(f"/tickets/?status={quote(c_card)}&after={quote(a)}", follow=True)
    )
    rec.record(
        "reply",
        merchant.post(
            f"/tickets/{number}/reply/",
            {"body": f"补充：卡号 {c_card}", "attachments": [upload(f"{d_card}.jpg")]},
        ),
    )
    rec.record("detail", merchant.get(f"/tickets/{number}/", follow=True))

    # -- API -------------------------------------------------------------------------------------
    api_body = {
        "terminal_id": "ABCD1234",
        "transaction_time": timezone.localtime().isoformat(),
        "amount": "10.00",
        "card_number": b_card,
        "response_code": "05",
        "rrn": "123456789013",
        "description": f"API {a}",
    }
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {world.raw_token}"}
    for body in (api_body, {**api_body, "amount": f"{a}"}, {**api_body, "response_code": a}):
        rec.record(
            "api",
            anonymous.post(
                "/api/v1/tickets", json.dumps(body), content_type="application/json", **bearer
            ),
        )
    rec.record("api-list", anonymous.get("/api/v1/tickets", **bearer))
    rec.record("api-search", anonymous.get(f"/api/v1/search?q={quote(a)}", follow=True))
    rec.record("api-code", anonymous.get(f"/api/v1/codes/{quote(a)}", follow=True))
    rec.record("api-404", anonymous.get(f"/api/v1/{quote(a)}", follow=True))

    # -- agents' desk: filters, reply, internal note, status note, escalation ------------------
    rec.record(
        "queue",
        agent.get(f"/desk/?q={quote(a)}&merchant={quote(b_card)}&tid={quote(c_card)}", follow=True),
    )
    rec.record("desk-reply", agent.post(f"/desk/tickets/{number}/reply/", {"body": f"回复 {a}"}))
    rec.record("desk-note", agent.post(f"/desk/tickets/{number}/note/", {"body": f"内部 {b_card}"}))
    rec.record(
        "desk-status",
        agent.post(
            f"/desk/tickets/{number}/status/", {"status": "in_progress", "note": f"处理中 {c_card}"}
        ),
    )
    rec.record("desk-detail", agent.get(f"/desk/tickets/{number}/", follow=True))
    rec.record(
        "escalate",
        agent.post(
            "/desk/escalations/new/",
            {"tickets": [number], "note": f"请核查 {d_card}", "confirm": "1"},
        ),
    )
    from diagnosis.models import EscalationBatch

    batch = EscalationBatch.objects.exclude(pk=world.batch.pk).get()
    item = batch.items.get()
    rec.record(
        "reference",
        agent.post(
            f"/desk/escalations/{batch.number}/items/{item.pk}/reference/", {"reference": a}
        ),
    )
    for suffix in ("", "export.csv", "export.xlsx", "print/"):
        rec.record("batch", agent.get(f"/desk/escalations/{batch.number}/{suffix}", follow=True))

    # -- the public side: search box, code page, vote comment, login box, password reset -------
    rec.record("search", anonymous.get(f"/search/?q={quote(a)}", follow=True))
    rec.record("search-en", anonymous.get(f"/en/search/?q={quote(b_card)}", follow=True))
    rec.record("code", anonymous.get(f"/codes/{quote(c_card)}/", follow=True))
    rec.record(
        "vote",
        anonymous.post(
            f"/articles/{world.article.slug}/vote/", {"helpful": "no", "comment": f"没用，卡号 {a}"}
        ),
    )
    rec.record("wizard", anonymous.get(f"/diagnose/?code={quote(a)}", follow=True))
    rec.record("login", anonymous.post("/accounts/login/", {"username": a, "password": b_card}))
    rec.record("reset", anonymous.post("/accounts/password/reset/", {"email": f"{a}@example.com"}))

    # -- scan ------------------------------------------------------------------------------------
    leaks = []
    leaks += [(f"response {label}", found) for label, text in rec.texts if (found := hits(text))]
    leaks += [
        (f"table {table}", found) for table, text in every_table_text() if (found := hits(text))
    ]
    for message in mail.outbox:
        text = "\n".join(
            [message.subject, message.body, *[str(alt[0]) for alt in message.alternatives]]
        )
        if found := hits(text):
            leaks.append(("email", found))
    if found := hits(log_output.getvalue()):
        leaks.append(("log", found))
    assert leaks == [], leaks
    # The scan is not vacuous: the inputs arrived, masked.
    from diagnosis.models import Ticket

    ticket = Ticket.objects.get(number=number)
    assert ticket.card_masked == "622848*********0018"
    assert "411111******1111" in ticket.description.replace(" ", "") or "4111" in ticket.description
    assert "WARNING django.request" in log_output.getvalue()  # the 404s were logged (masked)
    assert len(rec.texts) > 30
    search_page = dict(rec.texts)["search"]
    assert "622848*********0018" in search_page  # followed to the masked URL and rendered


@pytest.mark.django_db
def test_pagination_cursors_are_not_mistaken_for_card_numbers(client, merchant_user):
    """Keyset cursors are "<microseconds>.<pk>": a 16-digit run that may pass the Luhn check.
    They are left alone; a card number in the same parameter is still masked."""
    factories.sign_in(client, merchant_user)
    cursor = "4111111111111111.42"  # Luhn-valid digits before the dot
    response = client.get(f"/tickets/?after={cursor}")
    assert response.status_code == 200
    response = client.get("/tickets/?after=4111111111111111")
    assert response.status_code == 302
    assert "411111******1111" in unquote(response["Location"])
