"""Ticket emails. Called from `transaction.on_commit` by diagnosis.tickets.services only.

- a new ticket → every active support agent with an email address;
- a public reply by an agent, or a status change → the ticket merchant's users (never the author);
- a merchant's reply → the assigned agent;
- internal notes → nobody outside the agents (they are never emailed to merchants).

Each recipient gets their own message in their language (User.language), rendered from
templates/diagnosis/email/<kind>_subject.txt and <kind>.txt. Ticket text was scrubbed before it
was stored; the rendered message is scrubbed once more before it leaves (belt and braces).
A failing mail server is logged, never raised: the ticket is already committed.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from diagnosis.core.cards import scrub_text
from diagnosis.core.roles import SUPPORT_AGENTS

logger = logging.getLogger(__name__)


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def ticket_url_for(user, ticket) -> str:
    """Where `user` works on `ticket`: the desk page for agents, /tickets/ for merchants."""
    from diagnosis.core import permissions

    if permissions.is_agent(user):
        return _absolute(reverse("diagnosis:desk_ticket", args=[ticket.number]))
    return _absolute(ticket.get_absolute_url())


def _language_of(user) -> str:
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def _send(kind: str, recipients, context: dict) -> int:
    """One message per recipient, in the recipient's language. Returns how many were sent."""
    messages = []
    for user in recipients:
        if not user.email:
            continue
        with translation.override(_language_of(user)):
            ticket = context.get("ticket")
            personal = {**context, "recipient": user, "url": ticket_url_for(user, ticket)}
            subject = render_to_string(f"diagnosis/email/{kind}_subject.txt", personal)
            body = render_to_string(f"diagnosis/email/{kind}.txt", personal)
        subject = scrub_text(" ".join(subject.split()))
        messages.append(EmailMessage(subject=subject, body=scrub_text(body), to=[user.email]))
    if not messages:
        return 0
    try:
        return get_connection().send_messages(messages) or 0
    except Exception:  # noqa: BLE001 - mail trouble must never break the request after commit
        logger.exception("Sending %s ticket email(s) of kind %s failed", len(messages), kind)
        return 0


def _merchant_users(ticket, *, exclude=None):
    users = get_user_model().objects.filter(merchant_id=ticket.merchant_id, is_active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users.exclude(email="").order_by("pk"))


def _agents(*, exclude=None):
    users = get_user_model().objects.filter(groups__name=SUPPORT_AGENTS, is_active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    # Groups prefetched: choosing each agent's link (desk or /tickets/) asks no more queries.
    return list(users.exclude(email="").distinct().order_by("pk").prefetch_related("groups"))


def _load_ticket(ticket_id):
    from diagnosis.models import Ticket

    return (
        Ticket.objects.select_related("merchant", "acquirer", "assignee", "created_by")
        .filter(pk=ticket_id)
        .first()
    )


def _load_event(event_id):
    from diagnosis.models import TicketEvent

    return (
        TicketEvent.objects.select_related(
            "author", "ticket__merchant", "ticket__acquirer", "ticket__assignee"
        )
        .filter(pk=event_id)
        .first()
    )


def ticket_created(ticket_id) -> int:
    ticket = _load_ticket(ticket_id)
    if ticket is None:
        return 0
    return _send("ticket_created", _agents(exclude=ticket.created_by), {"ticket": ticket})


def ticket_replied(event_id) -> int:
    from diagnosis.core import permissions

    event = _load_event(event_id)
    if event is None or event.is_internal or event.kind != "reply":
        return 0
    ticket = event.ticket
    if event.author is not None and permissions.is_agent(event.author):
        recipients = _merchant_users(ticket, exclude=event.author)
    elif ticket.assignee is not None and ticket.assignee.is_active:
        recipients = [ticket.assignee] if ticket.assignee != event.author else []
    else:
        recipients = []
    return _send("ticket_reply", recipients, {"ticket": ticket, "event": event})


def ticket_status_changed(event_id) -> int:
    event = _load_event(event_id)
    if event is None or event.is_internal or event.kind != "status":
        return 0
    ticket = event.ticket
    return _send(
        "ticket_status",
        _merchant_users(ticket, exclude=event.author),
        {
            "ticket": ticket,
            "event": event,
            "old_status": ticket.Status(event.old_value).label if event.old_value else "",
            "new_status": ticket.Status(event.new_value).label,
        },
    )


def ticket_assigned(ticket_id, actor_id) -> int:
    ticket = _load_ticket(ticket_id)
    if ticket is None or ticket.assignee is None or ticket.assignee_id == actor_id:
        return 0
    return _send("ticket_assigned", [ticket.assignee], {"ticket": ticket})
