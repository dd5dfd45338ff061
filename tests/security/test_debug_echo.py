"""Echo paths with DEBUG on (the `make run` default, issue 14 point 3): Django's technical error
pages and the development server's request log never show a card number."""

import io
import logging

import pytest
from django.test import Client

from diagnosis.core.cards import CardNumberLogFilter
from tests import factories
from tests.security.test_card_data_never_leaks import hits

pytestmark = pytest.mark.django_db

CARD = "4111111111111111"


def test_a_bad_host_header_400_page_does_not_echo_the_number(settings):
    settings.DEBUG = True
    response = Client(raise_request_exception=False).get("/", HTTP_HOST=CARD)
    assert response.status_code == 400
    body = response.content.decode()
    assert "DisallowedHost" in body  # the technical page, masked
    assert hits(body) == []


def test_a_debug_500_page_does_not_echo_posted_numbers(settings, merchant_user, monkeypatch):
    settings.DEBUG = True
    from diagnosis.tickets import services

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "ticket_create", broken)
    client = Client(raise_request_exception=False)
    factories.sign_in(client, merchant_user)
    from datetime import timedelta

    from django.utils import timezone

    response = client.post(
        "/tickets/new/",
        {
            "tid": "ABCD1234",
            "transaction_time": (timezone.localtime() - timedelta(hours=1)).strftime(
                "%Y-%m-%d %H:%M"
            ),
            "amount": "12.00",
            "currency": "CNY",
            "card_type": "unknown",
            "card_number": "4111 1111 1111 1111",
            "description": "卡号 ６２２２０２１２３４５６７８９０１２３ 与 4111.1111.1111.1111",
        },
        HTTP_X_NOTE=f"card {CARD} 100",
    )
    assert response.status_code == 500
    body = response.content.decode()
    assert "RuntimeError" in body and hits(body) == []


def test_a_debug_404_page_does_not_echo_the_number(settings):
    settings.DEBUG = True
    client = Client(raise_request_exception=False)
    response = client.get(f"/no-such-page/{CARD}/", follow=True)
    assert response.status_code == 404
    assert hits(response.content.decode()) == []


@pytest.mark.parametrize(
    "line",
    [
        "GET /search/?q=4111+1111+1111+1111 HTTP/1.1",
        "GET /search/?q=4111%201111%201111%201111 HTTP/1.1",
        "GET /search/?q=%EF%BC%94111111111111111 HTTP/1.1",
        "GET /search/?q=4111111111111111.00 HTTP/1.1",
    ],
)
def test_the_request_log_masks_numbers_after_url_decoding(line):
    handler = next(h for h in logging.getLogger("django.server").handlers if h.filters)
    assert any(isinstance(f, CardNumberLogFilter) for f in handler.filters)
    stream = io.StringIO()
    probe = logging.StreamHandler(stream)
    for log_filter in handler.filters:
        probe.addFilter(log_filter)
    logger = logging.getLogger("declinedesk.server-probe")
    logger.addHandler(probe)
    try:
        logger.warning('"%s" %s %s', line, "200", "1234")
    finally:
        logger.removeHandler(probe)
    assert stream.getvalue().strip()  # the line was logged …
    assert hits(stream.getvalue()) == [], stream.getvalue()  # … masked


def test_hits_helper_sees_the_number_in_every_encoding():
    """The scan itself is not blind: it finds the number however it was written."""
    for text in (
        CARD,
        "4111+1111+1111+1111",
        "4111%201111%201111%201111",
        "４１１１ １１１１ １１１１ １１１１",
        "4111\u00a01111\t1111 1111",
    ):
        assert hits(text) == [CARD], text
