"""A demo incident for `seed_demo` (DEBUG only), so that `make run` shows the incident banner on
every page and the alert on the agents' desk.

One open incident of the demo merchant's acquirer (China UMS): the demo merchant user
(merchant-a) sees the banner and the bank-side outcome first in the wizard; agents see the alert
and can confirm, dismiss or resolve it. It is an incident as detection opens one, without its
burst of tickets: seed_demo's demo tickets are the demo merchant's own (and stay three).

Idempotent: once the acquirer has any incident (open, or handled by an agent), nothing is added.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from diagnosis.insight import alerts
from diagnosis.models import Bank, Incident

DEMO_ACQUIRER = "ums"


@transaction.atomic
def seed_incident(now=None) -> int:
    bank = Bank.objects.filter(code=DEMO_ACQUIRER).first()
    if bank is None or Incident.objects.filter(acquirer=bank).exists():
        return 0
    now = now or timezone.now()
    started = (now - timedelta(minutes=25)).replace(second=0, microsecond=0)
    Incident.objects.create(
        acquirer=bank,
        status=Incident.Status.OPEN,
        started_at=started,
        detected_at=started + timedelta(minutes=6),
        last_ticket_at=now - timedelta(minutes=4),
        merchant_count=max(3, settings.INCIDENT_MIN_MERCHANTS),
    )
    transaction.on_commit(alerts.forget, robust=True)
    return 1
