"""Bulk assign and bulk status change from the queue; refused moves are reported per ticket."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from diagnosis.models import Ticket, TicketEvent
from tests import factories
from tests.diagnosis.desk_support import make_ticket, make_tickets

pytestmark = pytest.mark.django_db
BULK = "diagnosis:desk_bulk"


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_assign(agent_client, agent):
    other = factories.agent()
    tickets = make_tickets(3)
    untouched = make_ticket()
    response = agent_client.post(
        reverse(BULK),
        {"action": "assign", "assignee": str(other.pk), "tickets": [t.number for t in tickets]},
    )
    assert response.status_code == 302
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee == other
        assert ticket.events.filter(kind=TicketEvent.Kind.ASSIGN, author=agent).exists()
    untouched.refresh_from_db()
    assert untouched.assignee is None
    assert any("已处理 3 张工单" in m for m in texts(response))


def test_bulk_unassign(agent_client, agent):
    tickets = make_tickets(2, assignee=agent)
    agent_client.post(
        reverse(BULK),
        {"action": "assign", "assignee": "none", "tickets": [t.number for t in tickets]},
    )
    assert Ticket.objects.filter(assignee__isnull=True).count() == 2


def test_bulk_assign_to_a_non_agent_is_refused(agent_client, merchant_user):
    ticket = make_ticket()
    response = agent_client.post(
        reverse(BULK),
        {"action": "assign", "assignee": str(merchant_user.pk), "tickets": [ticket.number]},
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert texts(response)


def test_bulk_status_reports_refused_transitions_per_ticket(agent_client):
    fresh = make_ticket(status=Ticket.Status.NEW)
    waiting = make_ticket(status=Ticket.Status.WAITING_MERCHANT)
    closed = make_ticket(status=Ticket.Status.CLOSED)
    response = agent_client.post(
        reverse(BULK),
        {
            "action": "status",
            "status": "waiting_merchant",
            "note": "请补充签购单照片",
            "tickets": [fresh.number, waiting.number, closed.number],
        },
    )
    assert response.status_code == 302
    for ticket in (fresh, waiting, closed):
        ticket.refresh_from_db()
    assert fresh.status == "waiting_merchant"
    assert waiting.status == "waiting_merchant"  # already there: refused, unchanged
    assert closed.status == "closed"  # closed → waiting is not an allowed move
    messages = texts(response)
    assert any(fresh.number in m and "已处理 1 张工单" in m for m in messages)
    refused = [m for m in messages if m.startswith("未处理")]
    assert len(refused) == 2
    assert any(waiting.number in m for m in refused)
    assert any(closed.number in m for m in refused)
    status_event = fresh.events.get(kind=TicketEvent.Kind.STATUS)
    assert status_event.body == "请补充签购单照片"


def test_bulk_status_note_is_scrubbed(agent_client):
    ticket = make_ticket()
    agent_client.post(
        reverse(BULK),
        {
            "action": "status",
            "status": "in_progress",
            "note": "卡号 6228480402564890018",
            "tickets": [ticket.number],
        },
    )
    body = ticket.events.get(kind=TicketEvent.Kind.STATUS).body
    assert "6228480402564890018" not in body
    assert "622848*********0018" in body


def test_bulk_without_selection_or_choice_is_an_error_not_500(agent_client):
    ticket = make_ticket()
    response = agent_client.post(reverse(BULK), {"action": "assign", "assignee": "none"})
    assert response.status_code == 302
    assert any("请先勾选" in m for m in texts(response))
    response = agent_client.post(reverse(BULK), {"action": "status", "tickets": [ticket.number]})
    assert any("请选择新的状态" in m for m in texts(response))
    response = agent_client.post(reverse(BULK), {"action": "explode", "tickets": [ticket.number]})
    assert response.status_code == 302
    response = agent_client.post(
        reverse(BULK), {"action": "status", "status": "bogus", "tickets": [ticket.number]}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_unknown_ticket_numbers_are_reported(agent_client):
    ticket = make_ticket()
    response = agent_client.post(
        reverse(BULK),
        {"action": "status", "status": "in_progress", "tickets": [ticket.number, "DD-0000-000000"]},
    )
    assert any("DD-0000-000000" in m for m in texts(response))
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"


def test_redirects_back_to_the_filtered_queue_but_never_offsite(agent_client):
    ticket = make_ticket()
    back = reverse("diagnosis:desk") + "?status=new&assignee=none"
    response = agent_client.post(
        reverse(BULK),
        {"action": "status", "status": "in_progress", "tickets": [ticket.number], "next": back},
    )
    assert response["Location"] == back
    response = agent_client.post(
        reverse(BULK),
        {
            "action": "status",
            "status": "resolved",
            "tickets": [ticket.number],
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == reverse("diagnosis:desk")


def test_get_is_not_allowed(agent_client):
    assert agent_client.get(reverse(BULK)).status_code == 405
