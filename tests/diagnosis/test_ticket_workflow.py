"""Allowed status transitions live in diagnosis.tickets.workflow; services and permissions obey."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from diagnosis.core import permissions
from diagnosis.models import Ticket
from diagnosis.tickets import workflow
from diagnosis.tickets.services import (
    ticket_change_status,
    ticket_close,
    ticket_reopen,
    ticket_reply,
)

S = Ticket.Status
A, M = workflow.AGENT, workflow.MERCHANT


def t(status, **kwargs):
    return Ticket(status=status, created_at=timezone.now(), **kwargs)


@pytest.mark.parametrize(
    ("old", "new", "role", "allowed"),
    [
        (S.NEW, S.IN_PROGRESS, A, True),
        (S.NEW, S.IN_PROGRESS, M, False),
        (S.IN_PROGRESS, S.WAITING_MERCHANT, A, True),
        (S.WAITING_MERCHANT, S.ESCALATED, A, True),
        (S.ESCALATED, S.RESOLVED, A, True),
        (S.RESOLVED, S.CLOSED, A, True),
        (S.WAITING_MERCHANT, S.IN_PROGRESS, A, True),  # agents step back
        (S.ESCALATED, S.IN_PROGRESS, A, True),
        (S.ESCALATED, S.ESCALATED, A, False),
        (S.CLOSED, S.RESOLVED, A, False),
        (S.CLOSED, S.NEW, A, False),
        (S.RESOLVED, S.NEW, M, False),
        (S.IN_PROGRESS, S.RESOLVED, M, False),  # merchants never resolve
        (S.IN_PROGRESS, S.ESCALATED, M, False),
        (S.NEW, S.CLOSED, M, True),  # merchants may close their ticket
        (S.ESCALATED, S.CLOSED, M, True),
        (S.NEW, S.IN_PROGRESS, None, False),
    ],
)
def test_transition_table(old, new, role, allowed):
    assert workflow.can_transition(t(old), role, new) is allowed


def test_every_listed_transition_moves_between_known_statuses():
    for (old, new), roles in workflow.TRANSITIONS.items():
        assert old in S.values and new in S.values and old != new
        assert roles and roles <= {A, M}


def test_merchant_reopen_only_within_14_days():
    now = timezone.now()
    fresh = t(S.RESOLVED, resolved_at=now - timedelta(days=13, hours=23))
    stale = t(S.CLOSED, closed_at=now - timedelta(days=14, minutes=1))
    assert workflow.can_transition(fresh, M, S.IN_PROGRESS, now=now)
    assert not workflow.can_transition(stale, M, S.IN_PROGRESS, now=now)
    assert workflow.can_transition(stale, A, S.IN_PROGRESS, now=now)  # agents any time
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.check_transition(stale, M, S.IN_PROGRESS, now=now)
    assert error.value.error_dict["status"][0].code == "reopen_expired"
    assert "14" in " ".join(error.value.message_dict["status"])


def test_allowed_transitions_in_flow_order():
    assert workflow.allowed_transitions(t(S.NEW), A) == [
        S.IN_PROGRESS,
        S.WAITING_MERCHANT,
        S.ESCALATED,
        S.RESOLVED,
        S.CLOSED,
    ]
    assert workflow.allowed_transitions(t(S.NEW), M) == [S.CLOSED]


def test_check_transition_names_the_statuses():
    with pytest.raises(workflow.TransitionNotAllowed) as error:
        workflow.check_transition(t(S.CLOSED), A, S.RESOLVED)
    assert "已关闭" in error.value.message_dict["status"][0]
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.check_transition(t(S.NEW), A, S.NEW)
    with pytest.raises(workflow.TransitionNotAllowed):
        workflow.check_transition(t(S.NEW), A, "bogus")


@pytest.mark.django_db
def test_service_enforces_workflow_and_history(ticket, agent, merchant_user):
    ticket_change_status(ticket=ticket, actor=agent, status=S.IN_PROGRESS)
    ticket_change_status(ticket=ticket, actor=agent, status=S.RESOLVED, note="已退款")
    assert ticket.status == S.RESOLVED and ticket.resolved_at is not None
    with pytest.raises(workflow.TransitionNotAllowed):
        ticket_change_status(ticket=ticket, actor=merchant_user, status=S.ESCALATED)
    ticket_close(ticket=ticket, actor=merchant_user)
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED and ticket.closed_at is not None
    ticket_reopen(ticket=ticket, actor=merchant_user, note="又被拒了")
    ticket.refresh_from_db()
    assert ticket.status == S.IN_PROGRESS
    assert ticket.closed_at is None and ticket.resolved_at is None
    history = list(ticket.events.filter(kind="status").values_list("old_value", "new_value"))
    assert history == [
        ("new", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
        ("closed", "in_progress"),
    ]
    assert ticket.events.get(new_value="resolved").body == "已退款"


@pytest.mark.django_db
def test_merchant_cannot_reopen_after_14_days(ticket, agent, merchant_user):
    ticket_change_status(ticket=ticket, actor=agent, status=S.RESOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=15))
    ticket.refresh_from_db()
    assert not permissions.can_reopen_ticket(merchant_user, ticket)
    with pytest.raises(workflow.TransitionNotAllowed):
        ticket_reopen(ticket=ticket, actor=merchant_user)
    ticket_reopen(ticket=ticket, actor=agent)
    assert ticket.status == S.IN_PROGRESS


@pytest.mark.django_db
def test_other_merchant_cannot_change_status(ticket, other_merchant_user):
    with pytest.raises(PermissionDenied):
        ticket_close(ticket=ticket, actor=other_merchant_user)
    ticket.refresh_from_db()
    assert ticket.status == S.NEW


@pytest.mark.django_db
def test_merchant_reply_moves_waiting_ticket_back_in_progress(ticket, agent, merchant_user):
    ticket_change_status(ticket=ticket, actor=agent, status=S.WAITING_MERCHANT)
    ticket_reply(ticket=ticket, author=merchant_user, body="小票照片在这里")
    assert ticket.status == S.IN_PROGRESS
    last = ticket.events.filter(kind="status").last()
    assert (last.old_value, last.new_value, last.author) == (
        "waiting_merchant",
        "in_progress",
        merchant_user,
    )
