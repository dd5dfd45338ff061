"""Escalation batches: one acquirer per batch, draft → sent → answered → closed, bank references."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from diagnosis.escalations import services as svc
from diagnosis.models import EscalationBatch, Ticket, TicketEvent
from tests import factories
from tests.diagnosis.desk_support import make_ticket, make_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return factories.bank()


@pytest.fixture
def tickets(bank):
    return [make_ticket(merchant=factories.merchant(acquirer=bank)) for _ in range(3)]


def test_create_draft_batch_for_one_acquirer(agent, bank, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets, note="请协查")
    assert batch.status == "draft" and batch.acquirer == bank
    assert batch.number.startswith("ESC-") and len(batch.number) <= 20
    assert sorted(batch.items.values_list("ticket_id", flat=True)) == sorted(t.pk for t in tickets)
    # creating a draft does not touch the tickets yet
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new"}


def test_batch_numbers_are_unique(agent, bank):
    numbers = {
        svc.escalation_create(
            actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=bank))]
        ).number
        for _ in range(3)
    }
    assert len(numbers) == 3


def test_mixing_acquirers_is_refused_with_a_clear_message(agent, tickets):
    other = make_ticket()  # another bank
    with pytest.raises(ValidationError) as error:
        svc.escalation_create(actor=agent, tickets=[*tickets, other])
    message = " ".join(error.value.messages)
    assert "同一家收单行" in message and "2 家" in message
    assert tickets[0].acquirer.name_zh in message and other.acquirer.name_zh in message
    assert not EscalationBatch.objects.exists()


def test_empty_selection_is_refused(agent):
    with pytest.raises(ValidationError):
        svc.escalation_create(actor=agent, tickets=[])


def test_only_agents_create_batches(merchant_user, editor, tickets):
    for user in (merchant_user, editor):
        with pytest.raises(PermissionDenied):
            svc.escalation_create(actor=user, tickets=tickets)


def test_closed_tickets_cannot_be_escalated(agent, bank):
    closed = make_ticket(merchant=factories.merchant(acquirer=bank), status="closed")
    with pytest.raises(ValidationError) as error:
        svc.escalation_create(actor=agent, tickets=[closed])
    assert closed.number in " ".join(error.value.messages)


def test_a_ticket_in_a_pending_batch_cannot_join_another(agent, tickets):
    first = svc.escalation_create(actor=agent, tickets=tickets[:2])
    with pytest.raises(ValidationError) as error:
        svc.escalation_create(actor=agent, tickets=tickets[1:])
    assert first.number in " ".join(error.value.messages)


def test_full_status_flow_moves_tickets_to_escalated(agent, merchant_user, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets)
    svc.escalation_mark_sent(batch=batch, actor=agent)
    batch.refresh_from_db()
    assert batch.status == "sent" and batch.sent_at is not None
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.ESCALATED
        status = ticket.events.get(kind=TicketEvent.Kind.STATUS)
        assert (status.old_value, status.new_value, status.is_internal) == (
            "new",
            "escalated",
            False,
        )
        marker = ticket.events.get(kind=TicketEvent.Kind.ESCALATED)
        assert marker.is_internal and marker.new_value == batch.number
    svc.escalation_mark_answered(batch=batch, actor=agent)
    svc.escalation_mark_closed(batch=batch, actor=agent)
    batch.refresh_from_db()
    assert batch.status == "closed" and batch.answered_at and batch.closed_at


@pytest.mark.parametrize(
    "start, action",
    [
        ("draft", svc.escalation_mark_answered),
        ("draft", svc.escalation_mark_closed),
        ("sent", svc.escalation_mark_sent),
        ("sent", svc.escalation_mark_closed),
        ("answered", svc.escalation_mark_sent),
        ("closed", svc.escalation_mark_answered),
    ],
)
def test_batch_transitions_out_of_order_are_refused(agent, tickets, start, action):
    batch = svc.escalation_create(actor=agent, tickets=tickets)
    EscalationBatch.objects.filter(pk=batch.pk).update(status=start)
    with pytest.raises(ValidationError):
        action(batch=batch, actor=agent)
    batch.refresh_from_db()
    assert batch.status == start


def test_send_is_all_or_nothing(agent, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets)
    Ticket.objects.filter(pk=tickets[2].pk).update(status="closed")  # closed meanwhile
    with pytest.raises(ValidationError) as error:
        svc.escalation_mark_sent(batch=batch, actor=agent)
    assert tickets[2].number in " ".join(error.value.messages)
    batch.refresh_from_db()
    assert batch.status == "draft"
    assert set(Ticket.objects.values_list("status", flat=True)) == {"new", "closed"}
    assert not TicketEvent.objects.exists()


def test_already_escalated_ticket_is_kept_when_sending(agent, bank):
    ticket = make_ticket(merchant=factories.merchant(acquirer=bank), status="escalated")
    batch = svc.escalation_create(actor=agent, tickets=[ticket])
    svc.escalation_mark_sent(batch=batch, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == "escalated"
    assert not ticket.events.filter(kind=TicketEvent.Kind.STATUS).exists()


def test_bank_reference_only_after_sending(agent, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets)
    item = batch.items.first()
    with pytest.raises(ValidationError):
        svc.escalation_set_bank_reference(item=item, reference="BOC-1")
    svc.escalation_mark_sent(batch=batch, actor=agent)
    svc.escalation_set_bank_reference(item=item, reference="  BOC-2026-0001 ", actor=agent)
    item.refresh_from_db()
    assert item.bank_reference == "BOC-2026-0001"
    event = item.ticket.events.filter(kind=TicketEvent.Kind.ESCALATED).last()
    assert event.new_value == "BOC-2026-0001" and event.is_internal
    svc.escalation_mark_answered(batch=batch, actor=agent)
    svc.escalation_set_bank_reference(item=item, reference="BOC-2026-0002")
    svc.escalation_mark_closed(batch=batch, actor=agent)
    with pytest.raises(ValidationError):
        svc.escalation_set_bank_reference(item=item, reference="late")
    item.refresh_from_db()
    assert item.bank_reference == "BOC-2026-0002"


def test_bank_reference_is_scrubbed_and_length_checked(agent, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets)
    svc.escalation_mark_sent(batch=batch, actor=agent)
    item = batch.items.first()
    svc.escalation_set_bank_reference(item=item, reference="6228480402564890018")
    item.refresh_from_db()
    assert item.bank_reference == "622848*********0018"
    with pytest.raises(ValidationError):
        svc.escalation_set_bank_reference(item=item, reference="R" * 61)


def test_remove_item_and_discard_only_in_draft(agent, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets)
    svc.escalation_remove_item(item=batch.items.first(), actor=agent)
    assert batch.items.count() == 2
    svc.escalation_mark_sent(batch=batch, actor=agent)
    with pytest.raises(ValidationError):
        svc.escalation_remove_item(item=batch.items.first(), actor=agent)
    with pytest.raises(ValidationError):
        svc.escalation_discard(batch=batch, actor=agent)
    draft = svc.escalation_create(actor=agent, tickets=make_tickets(1))
    svc.escalation_discard(batch=draft, actor=agent)
    assert not EscalationBatch.objects.filter(pk=draft.pk).exists()


def test_empty_batch_cannot_be_sent(agent, tickets):
    batch = svc.escalation_create(actor=agent, tickets=tickets[:1])
    svc.escalation_remove_item(item=batch.items.get(), actor=agent)
    with pytest.raises(ValidationError):
        svc.escalation_mark_sent(batch=batch, actor=agent)
