"""seed_demo adds demo tickets once (DEBUG only), through the services, without emailing."""

import pytest
from django.core import mail
from django.core.management import call_command

from diagnosis.models import Ticket

pytestmark = pytest.mark.django_db


def test_demo_tickets_seeded_once(settings, client):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0, history=False)
    tickets = list(Ticket.objects.order_by("number"))
    assert len(tickets) == 3
    assert {t.status for t in tickets} == {"new", "waiting_merchant", "escalated"}
    assert all(t.number.startswith("DD-") for t in tickets)
    assert mail.outbox == []
    call_command("seed_demo", verbosity=0, history=False)
    assert Ticket.objects.count() == 3
    assert client.login(username="merchant-a", password="demo-pass-2026")
    body = client.get("/tickets/").content.decode()
    assert all(t.number in body for t in tickets)
