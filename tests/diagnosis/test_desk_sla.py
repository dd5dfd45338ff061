"""The stored SLA deadline follows the timeline (services); the queue and ticket page show it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from diagnosis.models import Ticket
from diagnosis.tickets import services, sla_clock
from tests import factories


@pytest.fixture(autouse=True)
def clock_always_running(settings):
    # Every day, all day: the deadlines are plain clock hours, easy to pin.
    settings.WORKING_DAYS = [1, 2, 3, 4, 5, 6, 7]
    settings.WORKING_HOURS_START = "00:00"
    settings.WORKING_HOURS_END = "23:59"
    settings.SLA_HOLIDAYS = []


def test_new_ticket_is_due_at_its_first_reply_deadline(ticket):
    assert ticket.sla_due_at == ticket.first_response_due


def test_waiting_pauses_and_answer_resumes(ticket, agent, merchant_user):
    services.ticket_reply(ticket=ticket, author=agent, body="Please send the slip")
    assert ticket.sla_due_at is not None  # resolution target running
    services.ticket_change_status(ticket=ticket, actor=agent, status=Ticket.Status.WAITING_MERCHANT)
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None  # paused: not due in the queue
    services.ticket_reply(ticket=ticket, author=merchant_user, body="Here it is")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.IN_PROGRESS
    assert ticket.sla_due_at is not None  # next reply running again
    targets = {
        t.name: t
        for t in sla_clock.ticket_sla(
            created_at=ticket.created_at,
            priority=ticket.priority,
            facts=sla_clock.facts_for_ticket(ticket),
        )
    }
    assert targets["next_reply"].state == "running"
    assert ticket.sla_due_at == min(targets["next_reply"].due_at, targets["resolution"].due_at)


def test_priority_change_moves_the_deadline(ticket, agent):
    before = ticket.sla_due_at
    services.ticket_set_priority(ticket=ticket, actor=agent, priority=Ticket.Priority.URGENT)
    ticket.refresh_from_db()
    assert ticket.sla_due_at < before


def test_resolved_ticket_is_not_due(ticket, agent):
    services.ticket_change_status(ticket=ticket, actor=agent, status=Ticket.Status.RESOLVED)
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None


def _queue(client, agent, **params):
    factories.sign_in(client, agent)
    return client.get(reverse("diagnosis:desk"), params)


def test_queue_filters_and_sorts_by_due_soonest(client, agent, merchant_user):
    now = timezone.now()
    late = factories.ticket(user=merchant_user)
    soon = factories.ticket(user=merchant_user)
    later = factories.ticket(user=merchant_user)
    Ticket.objects.filter(pk=late.pk).update(sla_due_at=now - timedelta(hours=1))
    Ticket.objects.filter(pk=soon.pk).update(sla_due_at=now + timedelta(minutes=10))
    Ticket.objects.filter(pk=later.pk).update(sla_due_at=now + timedelta(days=3))

    body = _queue(client, agent, sort="sla").content.decode()
    assert body.index(late.number) < body.index(soon.number) < body.index(later.number)
    assert "SLA 已违约" in body and "SLA 即将到期" in body

    breached = _queue(client, agent, sla="breached").content.decode()
    assert late.number in breached and soon.number not in breached
    near = _queue(client, agent, sla="near").content.decode()
    assert soon.number in near and late.number not in near and later.number not in near


def test_ticket_page_shows_each_target(client, agent, ticket):
    services.ticket_reply(ticket=ticket, author=agent, body="Hello")
    services.ticket_change_status(ticket=ticket, actor=agent, status=Ticket.Status.ESCALATED)
    factories.sign_in(client, agent)
    body = client.get(reverse("diagnosis:desk_ticket", args=[ticket.number])).content.decode()
    assert "SLA 目标" in body
    assert "已达成" in body  # first reply
    assert "已暂停" in body  # resolution waits on the bank
