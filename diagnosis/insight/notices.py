"""Telling merchants about their acquirer's trouble before they call (issue 17 D).

When an incident opens for an acquirer, every merchant user of that acquirer who has not turned
it off (User.incident_mail) gets one e-mail in their language — once per incident, not per
ticket (the outbox key is the incident and the event) — and again when it is resolved. On
resolve, each open ticket linked to the incident gets one public reply from DeclineDesk
(`ticket_system_reply`, idempotent). The in-app banner on the merchant's pages is the existing
incident banner (diagnosis/insight/alerts.py: a merchant sees their own acquirer's incidents).
Run from the task `notify_incident`, enqueued by detection and by `incident_set_status`.
"""

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from diagnosis.models import Incident
from diagnosis.tickets import notifications, workflow

OPENED, RESOLVED = "opened", "resolved"


def merchant_recipients(incident):
    return list(
        get_user_model()
        .objects.filter(
            merchant__acquirer_id=incident.acquirer_id,
            is_active=True,
            incident_mail=True,
        )
        .exclude(email="")
        .order_by("pk")
    )


def incident_notify(incident_id: int, event: str) -> dict:
    """Mail the acquirer's merchants (once per incident and event); on resolve, reply on the
    linked open tickets. Returns {"mailed": n, "replied": n}."""
    from diagnosis.tickets.services import ticket_system_reply

    incident = Incident.objects.select_related("acquirer").filter(pk=incident_id).first()
    if incident is None or event not in (OPENED, RESOLVED):
        return {"mailed": 0, "replied": 0}
    if event == RESOLVED and incident.status != Incident.Status.RESOLVED:
        return {"mailed": 0, "replied": 0}  # reopened meanwhile
    kind = f"incident_{event}"
    status_url = notifications.absolute(reverse("diagnosis:status"))
    mailed = notifications.send(
        kind,
        merchant_recipients(incident),
        {"incident": incident, "bank": incident.acquirer, "status_url": status_url},
        key=f"{kind}:{incident.pk}",
    )
    replied = 0
    if event == RESOLVED:
        tickets = incident.tickets.exclude(status__in=workflow.DONE_STATUSES).select_related(
            "created_by", "acquirer"
        )
        for ticket in tickets:
            language = getattr(ticket.created_by, "language", "") or "zh-hans"
            with translation.override(language):
                body = _(
                    "%(bank)s 的系统故障已恢复。这张工单的拒绝很可能由那次故障造成，"
                    "请再试一次交易；如果仍被拒，请回复本工单。"
                ) % {"bank": ticket.acquirer.name}
            if ticket_system_reply(
                ticket=ticket, body=body, marker=f"incident-{incident.pk}-resolved"
            ):
                replied += 1
    return {"mailed": mailed, "replied": replied}


def enqueue(incident, event: str):
    from config.tasks import enqueue_on_commit
    from diagnosis.insight.tasks import notify_incident

    enqueue_on_commit(notify_incident, incident.pk, event)
