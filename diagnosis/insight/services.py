"""Writes on incidents: status changes, linking tickets, one reply to every linked ticket."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core import audit, permissions
from diagnosis.insight import alerts, notices
from diagnosis.models import Incident, Ticket

# Which status an incident may move to from each status.
TRANSITIONS = {
    Incident.Status.OPEN: {
        Incident.Status.CONFIRMED,
        Incident.Status.DISMISSED,
        Incident.Status.RESOLVED,
    },
    Incident.Status.CONFIRMED: {Incident.Status.RESOLVED, Incident.Status.DISMISSED},
    Incident.Status.DISMISSED: {Incident.Status.OPEN},
    Incident.Status.RESOLVED: {Incident.Status.OPEN},
}


def incident_allowed_statuses(incident) -> list[str]:
    return [s for s in Incident.Status.values if s in TRANSITIONS[incident.status]]


@transaction.atomic
def incident_set_status(*, incident, actor, status) -> Incident:
    if not permissions.can_manage_incidents(actor):
        raise PermissionDenied
    if status not in TRANSITIONS.get(incident.status, set()):
        raise ValidationError({"status": _("不能把这个事件改成这个状态。")})
    now = timezone.now()
    incident.status = status
    incident.changed_by = actor
    incident.changed_at = now
    incident.ended_at = None if status in Incident.ACTIVE_STATUSES else now
    try:
        with transaction.atomic():
            incident.save(update_fields=["status", "changed_by", "changed_at", "ended_at"])
    except IntegrityError:
        raise ValidationError(
            {"status": _("这家收单行已经有一个进行中的事件，不能再重新打开这个。")}
        ) from None
    audit.record(actor=actor, action="incident.status", obj=incident, status=status)
    if status == Incident.Status.RESOLVED:
        notices.enqueue(incident, notices.RESOLVED)
    transaction.on_commit(alerts.forget, robust=True)
    return incident


def _recount(incident):
    incident.merchant_count = incident.tickets.values("merchant_id").distinct().count()
    incident.save(update_fields=["merchant_count"])


@transaction.atomic
def incident_link_tickets(*, incident, actor, numbers) -> dict:
    """Link tickets (by number) of the incident's acquirer. Returns {"linked", "missing",
    "other_bank"} lists of numbers."""
    if not permissions.can_manage_incidents(actor):
        raise PermissionDenied
    numbers = list(dict.fromkeys(n.strip().upper() for n in numbers if n.strip()))[:200]
    found = {t.number: t for t in Ticket.objects.filter(number__in=numbers)}
    missing = [n for n in numbers if n not in found]
    other = [n for n, t in found.items() if t.acquirer_id != incident.acquirer_id]
    linked = [t for n, t in found.items() if t.acquirer_id == incident.acquirer_id]
    if linked:
        incident.tickets.add(*linked)
        _recount(incident)
        audit.record(
            actor=actor, action="incident.link", obj=incident, tickets=[t.number for t in linked]
        )
        transaction.on_commit(alerts.forget, robust=True)
    return {"linked": [t.number for t in linked], "missing": missing, "other_bank": other}


@transaction.atomic
def incident_unlink_ticket(*, incident, actor, ticket) -> None:
    if not permissions.can_manage_incidents(actor):
        raise PermissionDenied
    incident.tickets.remove(ticket)
    _recount(incident)
    audit.record(actor=actor, action="incident.unlink", obj=incident, ticket=ticket.number)
    transaction.on_commit(alerts.forget, robust=True)


@transaction.atomic
def incident_reply_all(*, incident, actor, body) -> int:
    """The same public reply on every linked ticket, all or nothing. Returns how many."""
    from diagnosis.tickets.services import ticket_reply

    if not permissions.can_manage_incidents(actor):
        raise PermissionDenied
    if not (body or "").strip():
        raise ValidationError({"body": _("请填写回复内容。")})
    tickets = list(incident.tickets.select_related("merchant").order_by("created_at", "pk"))
    if not tickets:
        raise ValidationError({"body": _("这个事件还没有关联工单。")})
    for ticket in tickets:
        ticket_reply(ticket=ticket, author=actor, body=body)
    return len(tickets)
