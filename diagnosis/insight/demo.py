"""A demo incident for `seed_demo` (DEBUG only), so that `make run` shows what an incident looks
like: the banner for the demo merchant, the alert and the incident page on the agents' desk.

One incident of the demo merchant's acquirer (China UMS), as detection opens one (without its
burst of tickets: seed_demo's demo tickets are the demo merchant's own and stay three). Like a
real one it is recent and then over: opened 25 minutes before the seed, and resolved by a later
`seed_demo` once it is more than STALE_AFTER old and nobody has handled it — a banner saying
"many merchants report failures since 05:39" must not stay up for days. The wizard shows the
banner only while the merchant's answers still allow a bank-side cause.

Idempotent: once the acquirer has any incident (open, or handled by an agent), nothing is added.
With the demo history (diagnosis/demo/history.py, built first) the current China UMS incident is
the history's, tied to its tickets, so this adds none; it still ends it once it is stale.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from diagnosis.insight import alerts
from diagnosis.models import Bank, Incident

DEMO_ACQUIRER = "ums"
STALE_AFTER = timedelta(hours=2)  # an unhandled demo incident older than this is over
DURATION = timedelta(minutes=40)  # how long the demo incident lasted once it is over


@transaction.atomic
def seed_incident(now=None) -> int:
    """Open the demo incident (1), or close a stale one (0); never both, never twice."""
    bank = Bank.objects.filter(code=DEMO_ACQUIRER).first()
    if bank is None:
        return 0
    now = now or timezone.now()
    existing = Incident.objects.filter(acquirer=bank)
    if existing.exists():
        _resolve_stale(existing, now)
        return 0
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


def _resolve_stale(incidents, now):
    """The demo incident nobody handled, once it is old: over, as a real one would be."""
    stale = incidents.filter(
        status=Incident.Status.OPEN, changed_by__isnull=True, started_at__lt=now - STALE_AFTER
    )
    for incident in stale:
        incident.status = Incident.Status.RESOLVED
        incident.ended_at = min(now, incident.started_at + DURATION)
        incident.save(update_fields=["status", "ended_at"])
        transaction.on_commit(alerts.forget, robust=True)
