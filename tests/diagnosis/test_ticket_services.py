"""Replies, notes, assignment, priority — history and emails (sent only after commit)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from diagnosis.models import Ticket, TicketEvent
from diagnosis.tickets.services import (
    ticket_assign,
    ticket_change_status,
    ticket_reply,
    ticket_set_priority,
)
from tests import factories


@pytest.mark.django_db
def test_new_ticket_emails_agents_after_commit(
    merchant_user, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        assert mailoutbox == []  # nothing before the transaction commits
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert [message.to for message in mailoutbox] == [[agent.email]]
    assert ticket.number in mailoutbox[0].subject
    assert merchant_user.email not in mailoutbox[0].to


@pytest.mark.django_db(transaction=True)
def test_no_email_when_transaction_rolls_back(merchant_user, agent, mailoutbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        raise RuntimeError("rollback")
    assert mailoutbox == []
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_agent_reply_emails_merchant_users_in_their_language(
    ticket, agent, merchant_user, mailoutbox, django_capture_on_commit_callbacks
):
    english = factories.merchant_user(merchant=ticket.merchant, language="en")
    factories.merchant_user(merchant=ticket.merchant, email="")  # no address: skipped
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=agent, body="请提供签购单照片。")
    by_recipient = {message.to[0]: message for message in mailoutbox}
    assert set(by_recipient) == {merchant_user.email, english.email}
    assert "有新回复" in by_recipient[merchant_user.email].subject
    assert "New reply" in by_recipient[english.email].subject
    assert "请提供签购单照片。" in by_recipient[english.email].body
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None


@pytest.mark.django_db
def test_internal_note_never_emailed_or_shown_to_merchants(
    ticket, agent, merchant_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = ticket_reply(ticket=ticket, author=agent, body="内部：疑似套现", internal=True)
    assert event.kind == TicketEvent.Kind.NOTE and event.is_internal
    assert all("疑似套现" not in message.body for message in mailoutbox)
    assert all(merchant_user.email not in message.to for message in mailoutbox)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None  # a note is not a response to the merchant


@pytest.mark.django_db
def test_merchant_cannot_write_internal_notes_or_reply_to_others(
    ticket, merchant_user, other_merchant_user
):
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, author=merchant_user, body="x", internal=True)
    with pytest.raises(PermissionDenied):
        ticket_reply(ticket=ticket, author=other_merchant_user, body="x")


@pytest.mark.django_db
def test_empty_reply_rejected(ticket, merchant_user):
    with pytest.raises(ValidationError) as error:
        ticket_reply(ticket=ticket, author=merchant_user, body="   ")
    assert "body" in error.value.message_dict


@pytest.mark.django_db
def test_status_change_emails_merchant_not_actor(
    ticket, agent, merchant_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_change_status(ticket=ticket, actor=agent, status="escalated", note="已提交银行")
    assert [message.to for message in mailoutbox] == [[merchant_user.email]]
    assert "已提交银行" in mailoutbox[0].subject
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_change_status(ticket=ticket, actor=merchant_user, status="closed")
    assert mailoutbox == []  # the merchant who closed it is the only merchant user


@pytest.mark.django_db
def test_assign_and_priority_are_agent_only_and_recorded(
    ticket, agent, merchant_user, mailoutbox, django_capture_on_commit_callbacks
):
    other_agent = factories.agent()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_assign(ticket=ticket, actor=agent, assignee=other_agent)
        ticket_set_priority(ticket=ticket, actor=agent, priority="urgent")
    ticket.refresh_from_db()
    assert ticket.assignee == other_agent and ticket.priority == "urgent"
    assign, priority = ticket.events.filter(kind__in=["assign", "priority"]).order_by("pk")
    assert (assign.new_value, assign.is_internal) == (other_agent.username, True)
    assert (priority.old_value, priority.new_value) == ("normal", "urgent")
    assert [message.to for message in mailoutbox] == [[other_agent.email]]
    with pytest.raises(PermissionDenied):
        ticket_assign(ticket=ticket, actor=merchant_user, assignee=agent)
    with pytest.raises(PermissionDenied):
        ticket_set_priority(ticket=ticket, actor=merchant_user, priority="low")
    with pytest.raises(ValidationError):
        ticket_assign(ticket=ticket, actor=agent, assignee=merchant_user)
    with pytest.raises(ValidationError):
        ticket_set_priority(ticket=ticket, actor=agent, priority="whenever")
    ticket_assign(ticket=ticket, actor=agent, assignee=None)
    ticket.refresh_from_db()
    assert ticket.assignee is None


@pytest.mark.django_db
def test_merchant_reply_notifies_assignee(
    ticket, agent, merchant_user, mailoutbox, django_capture_on_commit_callbacks
):
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=merchant_user, body="补充：凭证号 000123")
    assert [message.to for message in mailoutbox] == [[agent.email]]
    assert "/tickets/" in mailoutbox[0].body or "/desk/" in mailoutbox[0].body


@pytest.mark.django_db
def test_failing_mail_server_does_not_break_the_request(
    ticket, agent, settings, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "tests.diagnosis.test_ticket_services.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        ticket_reply(ticket=ticket, author=agent, body="hello")
    assert "failed" in caplog.text


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server down")


@pytest.mark.django_db
def test_switching_language_sets_the_email_language(client, merchant_user):
    factories.sign_in(client, merchant_user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/tickets/"})
    merchant_user.refresh_from_db()
    assert merchant_user.language == "en"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/tickets/"})
    merchant_user.refresh_from_db()
    assert merchant_user.language == "en"
