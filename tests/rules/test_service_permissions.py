"""Every permission check a service makes, tried with the actors the UI never offers.

The pages hide the buttons; these tests call the services directly (as an API, a management
command or a future page would) and expect a refusal, with nothing written.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from diagnosis.escalations import services as escalations
from diagnosis.models import EscalationBatch, Ticket, TicketEvent
from diagnosis.tickets import api_tokens
from diagnosis.tickets import services as tickets
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(ticket):
    return ticket.created_by


def _events(ticket):
    return TicketEvent.objects.filter(ticket=ticket).count()


def test_merchant_cannot_post_an_internal_note_on_their_own_ticket(ticket, owner):
    before = _events(ticket)
    with pytest.raises(PermissionDenied):
        tickets.ticket_reply(ticket=ticket, author=owner, body="内部备注", internal=True)
    assert _events(ticket) == before


def test_editor_cannot_reply_or_note(ticket):
    editor = factories.editor()
    for internal in (False, True):
        with pytest.raises(PermissionDenied):
            tickets.ticket_reply(ticket=ticket, author=editor, body="hi", internal=internal)


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_merchant_cannot_reply_to_a_done_ticket(ticket, owner, agent, status):
    tickets.ticket_change_status(ticket=ticket, actor=agent, status=status)
    with pytest.raises(PermissionDenied):
        tickets.ticket_reply(ticket=ticket, author=owner, body="还在吗")


@pytest.mark.parametrize("status", ["in_progress", "waiting_merchant", "escalated", "resolved"])
def test_merchant_can_never_move_their_ticket_forward(ticket, owner, status):
    with pytest.raises(ValidationError) as error:
        tickets.ticket_change_status(ticket=ticket, actor=owner, status=status)
    assert error.value.error_dict["status"][0].code == "transition_not_allowed"
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW


@pytest.mark.parametrize(
    "make_assignee",
    [
        pytest.param(lambda t: t.created_by, id="the ticket's merchant"),
        pytest.param(lambda t: factories.agent(is_active=False), id="a deactivated agent"),
        pytest.param(lambda t: factories.editor(), id="an editor"),
        pytest.param(lambda t: factories.user(), id="a user without a role"),
    ],
)
def test_tickets_are_assigned_to_active_agents_only(ticket, agent, make_assignee):
    assignee = make_assignee(ticket)
    with pytest.raises(ValidationError) as error:
        tickets.ticket_assign(ticket=ticket, actor=agent, assignee=assignee)
    assert "assignee" in error.value.error_dict
    ticket.refresh_from_db()
    assert ticket.assignee_id is None


def test_assignment_and_priority_need_an_agent(ticket, owner, agent):
    for actor in (owner, factories.editor(), factories.user()):
        with pytest.raises(PermissionDenied):
            tickets.ticket_assign(ticket=ticket, actor=actor, assignee=None)
        with pytest.raises(PermissionDenied):
            tickets.ticket_set_priority(ticket=ticket, actor=actor, priority="urgent")
    ticket.refresh_from_db()
    assert ticket.priority != "urgent"
    tickets.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    tickets.ticket_set_priority(ticket=ticket, actor=agent, priority="urgent")
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (agent, "urgent")


def test_unknown_priority_is_refused_with_its_field(ticket, agent):
    with pytest.raises(ValidationError) as error:
        tickets.ticket_set_priority(ticket=ticket, actor=agent, priority="whenever")
    assert "priority" in error.value.error_dict


def test_other_merchant_cannot_touch_the_ticket(ticket, other_merchant_user):
    for call in (
        lambda: tickets.ticket_reply(ticket=ticket, author=other_merchant_user, body="x"),
        lambda: tickets.ticket_close(ticket=ticket, actor=other_merchant_user),
        lambda: tickets.ticket_change_status(
            ticket=ticket, actor=other_merchant_user, status="closed"
        ),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_merchants_and_editors_cannot_escalate(ticket, owner):
    for actor in (owner, factories.editor()):
        with pytest.raises(PermissionDenied):
            escalations.escalation_create(actor=actor, tickets=[ticket])
    assert EscalationBatch.objects.count() == 0


def test_batch_actions_need_an_agent(ticket, owner, agent):
    batch = escalations.escalation_create(actor=agent, tickets=[ticket])
    for service in (
        escalations.escalation_mark_sent,
        escalations.escalation_discard,
    ):
        with pytest.raises(PermissionDenied):
            service(batch=batch, actor=owner)
    with pytest.raises(PermissionDenied):
        escalations.escalation_remove_item(item=batch.items.get(), actor=owner)
    batch.refresh_from_db()
    assert batch.status == EscalationBatch.Status.DRAFT


def test_api_tokens_are_for_active_merchant_users_only(owner, agent):
    for user in (agent, factories.editor(), factories.merchant_user(is_active=False)):
        with pytest.raises(PermissionDenied):
            api_tokens.api_token_create(user=user, name="x")
    token, raw = api_tokens.api_token_create(user=owner, name="till 1")
    assert api_tokens.api_token_user(raw) == owner
    with pytest.raises(PermissionDenied):
        api_tokens.api_token_revoke(
            token=token, actor=factories.merchant_user(merchant=owner.merchant)
        )
    owner.is_active = False
    owner.save()
    assert api_tokens.api_token_user(raw) is None
