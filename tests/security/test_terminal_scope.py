"""One merchant cannot mark another merchant's terminal as faulty (issue 14, point 6).

A ticket's TID is linked to a terminal only when it is one of the ticket's merchant's terminals;
otherwise it is stored as an unregistered TID. Terminal health is per merchant + TID, so tickets
typed by merchant A with merchant B's TID never flag B's terminal."""

import json
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from diagnosis.insight import terminal_health
from diagnosis.models import Ticket
from diagnosis.tickets.api_tokens import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db


@override_settings(TERMINAL_HEALTH_MIN_CARDS=5, TERMINAL_HEALTH_WINDOW_MINUTES=60)
def test_another_merchants_tickets_never_flag_a_terminal():
    owner = factories.merchant_user()
    terminal = factories.terminal(merchant=owner.merchant, tid="B0000001")
    own = factories.ticket(merchant=owner.merchant, user=owner, tid=terminal.tid)
    assert own.terminal == terminal

    attacker = factories.merchant_user()
    _token, raw = api_token_create(user=attacker)
    now = timezone.now()
    for n in range(5):
        body = {
            "terminal_id": terminal.tid,
            "transaction_time": (now - timedelta(minutes=5 + n)).isoformat(),
            "amount": "10.00",
            "card_number": f"{1000 + n}",
            "rrn": f"{n:012d}",
        }
        response = Client().post(
            "/api/v1/tickets",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {raw}",
        )
        assert response.status_code == 201
    planted = Ticket.objects.filter(merchant=attacker.merchant)
    assert planted.count() == 5
    assert set(planted.values_list("terminal", flat=True)) == {None}  # unregistered TID

    # The owner's terminal is not flagged, on the desk or anywhere else.
    assert not terminal_health.is_flagged(own, terminal_health.flagged_for_tickets([own, *planted]))
    assert terminal_health.flagged_for_merchant(owner.merchant_id) == {}
    agent = Client()
    factories.sign_in(agent, factories.agent())
    html = agent.get("/desk/").content.decode()
    own_row = html.split(own.number)[1].split("</tr>")[0]
    assert "疑似终端故障" not in own_row
    # The attacker's own unregistered TID counts for the attacker alone.
    flagged = terminal_health.flagged_for_tickets(planted)
    assert flagged == {(attacker.merchant_id, terminal.tid): 5}
