"""Ticket emails, built and delivered by background tasks (diagnosis/tickets/tasks.py), never
inside a request.

- a new ticket → every active support agent with an email address;
- a public reply by an agent, or a status change → the ticket merchant's users (never the author);
- a merchant's reply → the assigned agent;
- internal notes → nobody outside the agents (they are never emailed to merchants);
- jobs (diagnosis/tickets/jobs.py): the auto-close reminder → the merchant's users; first-reply
  deadline near or missed → the assignee, or every agent; the daily digest → agents who asked.

Each recipient gets their own message in their language (User.language), rendered from
templates/diagnosis/email/<kind>_subject.txt and <kind>.txt and stored as an OutgoingMail row
(scrubbed once more before it is stored: belt and braces). A row's key names the notification
and the recipient, so a task that runs twice builds nothing new, and `deliver()` sends a row at
most once. A mail server that is down costs nothing but time: the row is tried again with
back-off (MAIL_RETRY_SECONDS, doubling) up to MAIL_MAX_ATTEMPTS times, then kept as "failed"
with its error (admin: Outgoing mail, "send again").
"""

import contextlib
import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from diagnosis.core.cards import scrub_text
from diagnosis.core.roles import SUPPORT_AGENTS
from diagnosis.models import OutgoingMail

logger = logging.getLogger(__name__)

Status = OutgoingMail.Status


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def ticket_url_for(user, ticket) -> str:
    """Where `user` works on `ticket`: the desk page for agents, /tickets/ for merchants."""
    from diagnosis.core import permissions

    if permissions.is_agent(user):
        return absolute(reverse("diagnosis:desk_ticket", args=[ticket.number]))
    return absolute(ticket.get_absolute_url())


def _language_of(user) -> str:
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def build(kind: str, recipients, context: dict, *, key: str) -> list[int]:
    """One OutgoingMail row per recipient (in their language) under `key`:<recipient>; rows
    that exist already are kept as they are. Returns the ids of the rows still to send."""
    ticket = context.get("ticket")
    rows = []
    now = timezone.now()
    for user in recipients:
        if not user.email:
            continue
        with translation.override(_language_of(user)):
            personal = {**context, "recipient": user, "site_url": settings.SITE_URL}
            if ticket is not None:
                personal["url"] = ticket_url_for(user, ticket)
            subject = render_to_string(f"diagnosis/email/{kind}_subject.txt", personal)
            body = render_to_string(f"diagnosis/email/{kind}.txt", personal)
        rows.append(
            OutgoingMail(
                key=f"{key}:{user.pk}"[:200],
                kind=kind,
                recipient=user,
                to=user.email,
                ticket=ticket,
                subject=scrub_text(" ".join(subject.split()))[:255],
                body=scrub_text(body),
                next_attempt_at=now,
                created_at=now,
            )
        )
    if not rows:
        return []
    OutgoingMail.objects.bulk_create(rows, ignore_conflicts=True)
    return list(
        OutgoingMail.objects.filter(
            key__in=[row.key for row in rows], status=Status.PENDING
        ).values_list("pk", flat=True)
    )


def send(kind: str, recipients, context: dict, *, key: str) -> int:
    """Build, then deliver at once; returns how many were sent now."""
    return deliver(build(kind, recipients, context, key=key))


# --- delivery ----------------------------------------------------------------------------------


def _message(mail: OutgoingMail) -> EmailMessage:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "localhost"
    return EmailMessage(
        subject=mail.subject,
        body=mail.body,
        to=[mail.to],
        # The same id on every attempt: a receiving server can tell a repeat.
        headers={"Message-ID": f"<declinedesk.{mail.pk}.{mail.key.split(':')[0]}@{domain}>"},
    )


def retry_delay(attempts: int) -> float:
    """Seconds before attempt number `attempts + 1`: 30 s, 1 min, 2 min, … at most 6 h."""
    return min(settings.MAIL_RETRY_SECONDS * 2 ** max(0, attempts - 1), 6 * 3600)


def deliver(mail_ids) -> int:
    """Send the due, pending rows among `mail_ids` over one connection; returns how many were
    sent. Each row is marked sent right after the server accepted it; a failure is recorded and
    retried later. On PostgreSQL a row is locked while it is sent (another worker skips it, and
    a worker that dies mid-way leaves it pending for the task's next run); SQLite has one
    worker (`make run`), and its rows are sent without holding the database's write lock."""
    mail_ids = list(mail_ids)
    if not mail_ids:
        return 0
    state = {"smtp": None, "sent": 0, "retry_after": {}}
    locking = db_connection.features.has_select_for_update_skip_locked
    try:
        for mail_id in mail_ids:
            due = OutgoingMail.objects.filter(
                pk=mail_id,
                status=Status.PENDING,
                next_attempt_at__lte=timezone.now() + timedelta(seconds=1),
            )
            if locking:
                with transaction.atomic():
                    _send_one(due.select_for_update(skip_locked=True).first(), state)
            else:
                _send_one(due.first(), state)
    finally:
        if state["smtp"] is not None:
            _close(state["smtp"])
    if state["retry_after"]:
        from config.tasks import enqueue_later
        from diagnosis.tickets.tasks import deliver_mail

        for delay, ids in state["retry_after"].items():
            # Backends that cannot defer (immediate): the scheduler's mail sweep retries.
            enqueue_later(deliver_mail, delay + 0.5, ids)
    return state["sent"]


def _send_one(mail, state):
    if mail is None:
        return  # sent, failed for good, not due yet, or another worker has it
    try:
        if state["smtp"] is None:
            state["smtp"] = get_connection()
            state["smtp"].open()
        state["smtp"].send_messages([_message(mail)])
    except Exception as error:  # noqa: BLE001 - any mail trouble: try again later
        delay = _failed(mail, error)
        if delay is not None:
            state["retry_after"].setdefault(delay, []).append(mail.pk)
        if state["smtp"] is not None:
            _close(state["smtp"])
            state["smtp"] = None
        return
    mail.status = Status.SENT
    mail.sent_at = timezone.now()
    mail.attempts += 1
    mail.last_error = ""
    mail.save(update_fields=["status", "sent_at", "attempts", "last_error"])
    state["sent"] += 1


def _close(connection):
    with contextlib.suppress(Exception):  # the connection is broken already
        connection.close()


def _failed(mail: OutgoingMail, error: Exception) -> float | None:
    mail.attempts += 1
    mail.last_error = scrub_text(f"{type(error).__name__}: {error}")[:2000]
    if mail.attempts >= settings.MAIL_MAX_ATTEMPTS:
        mail.status = Status.FAILED
        delay = None
        logger.error(
            "Mail %s to %s failed %d times, given up: %s",
            mail.pk, mail.to, mail.attempts, mail.last_error,
        )  # fmt: skip
    else:
        delay = retry_delay(mail.attempts)
        mail.next_attempt_at = timezone.now() + timedelta(seconds=delay)
        logger.warning(
            "Mail %s to %s failed (attempt %d), next try in %.0f s: %s",
            mail.pk, mail.to, mail.attempts, delay, mail.last_error,
        )  # fmt: skip
    mail.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    return delay


def deliver_due(*, now=None, limit=500) -> int:
    """The sweep: every pending row whose time has come (retries the backend could not defer,
    rows whose task was lost). Returns how many were sent."""
    now = now or timezone.now()
    ids = list(
        OutgoingMail.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver(ids)


def send_again(mail_ids) -> int:
    """Admin action: failed (or pending) rows are tried again now, from attempt one."""
    ids = list(
        OutgoingMail.objects.filter(pk__in=list(mail_ids))
        .exclude(status=Status.SENT)
        .values_list("pk", flat=True)
    )
    OutgoingMail.objects.filter(pk__in=ids).update(
        status=Status.PENDING, attempts=0, next_attempt_at=timezone.now()
    )
    if ids:
        from config.tasks import enqueue_on_commit
        from diagnosis.tickets.tasks import deliver_mail

        enqueue_on_commit(deliver_mail, ids)
    return len(ids)


# --- who is told what --------------------------------------------------------------------------


def merchant_users(ticket, *, exclude=None):
    users = get_user_model().objects.filter(merchant_id=ticket.merchant_id, is_active=True)
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    return list(users.exclude(email="").order_by("pk"))


def agents(*, exclude=None):
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
    return send(
        "ticket_created",
        agents(exclude=ticket.created_by),
        {"ticket": ticket},
        key=f"ticket_created:{ticket.pk}",
    )


def ticket_replied(event_id) -> int:
    from diagnosis.core import permissions

    event = _load_event(event_id)
    if event is None or event.is_internal or event.kind != "reply":
        return 0
    ticket = event.ticket
    if event.author is None or permissions.is_agent(event.author):  # an agent or DeclineDesk
        recipients = merchant_users(ticket, exclude=event.author)
    elif ticket.assignee is not None and ticket.assignee.is_active:
        recipients = [ticket.assignee] if ticket.assignee != event.author else []
    else:
        recipients = []
    return send(
        "ticket_reply",
        recipients,
        {"ticket": ticket, "event": event},
        key=f"ticket_reply:{event.pk}",
    )


def ticket_status_changed(event_id) -> int:
    event = _load_event(event_id)
    if event is None or event.is_internal or event.kind != "status":
        return 0
    ticket = event.ticket
    return send(
        "ticket_status",
        merchant_users(ticket, exclude=event.author),
        {
            "ticket": ticket,
            "event": event,
            "old_status": ticket.Status(event.old_value).label if event.old_value else "",
            "new_status": ticket.Status(event.new_value).label,
            "rating_url": _rating_url(ticket, event),
        },
        key=f"ticket_status:{event.pk}",
    )


def _rating_url(ticket, event) -> str:
    """The signed, single-use satisfaction link of a resolution mail (diagnosis/tickets/
    satisfaction.py); none for other status changes or when the ticket was rated already."""
    from diagnosis.models import SatisfactionRating
    from diagnosis.tickets import satisfaction

    if event.new_value != ticket.Status.RESOLVED or ticket.status != ticket.Status.RESOLVED:
        return ""
    if SatisfactionRating.objects.filter(ticket=ticket).exists():
        return ""
    return absolute(satisfaction.rating_url(ticket))


def ticket_assigned(ticket_id, actor_id) -> int:
    ticket = _load_ticket(ticket_id)
    if ticket is None or ticket.assignee is None or ticket.assignee_id == actor_id:
        return 0
    return send(
        "ticket_assigned",
        [ticket.assignee],
        {"ticket": ticket},
        key=f"ticket_assigned:{ticket.pk}:{ticket.updated_at.timestamp()}",
    )
