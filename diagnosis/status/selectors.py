"""Reads of the public status page: four queries whatever the number of banks or incidents.

A bank's state: "degraded" while it has an active incident (open or confirmed), else
"maintenance" while an announcement for it (or for all banks) is in its window, else
"operational". Announced windows starting in the next STATUS_UPCOMING_DAYS are listed too.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from diagnosis.models import Bank, Incident
from knowledge.models import Announcement

HISTORY_DAYS = 30
UPCOMING_DAYS = 14
OPERATIONAL, DEGRADED, MAINTENANCE = "operational", "degraded", "maintenance"


@dataclass
class BankStatus:
    bank: Bank
    state: str = OPERATIONAL
    incident: Incident | None = None
    windows: list = field(default_factory=list)  # active or upcoming announcements


def recent_incidents(*, now=None, days=HISTORY_DAYS):
    now = now or timezone.now()
    return list(
        Incident.objects.filter(started_at__gte=now - timedelta(days=days))
        .exclude(status=Incident.Status.DISMISSED)
        .select_related("acquirer")
        .order_by("-started_at", "-pk")[:200]
    )


def maintenance_windows(*, now=None):
    """Announcements for acquirers in their window now or starting within UPCOMING_DAYS."""
    now = now or timezone.now()
    return list(
        Announcement.objects.filter(
            bank_role=Announcement.BankRole.ACQUIRER,
            starts_at__lte=now + timedelta(days=UPCOMING_DAYS),
        )
        .exclude(ends_at__lte=now)
        .select_related("bank")
        .order_by("starts_at")
    )


def status_overview(*, now=None) -> list[BankStatus]:
    now = now or timezone.now()
    banks = list(Bank.objects.filter(is_acquirer=True).order_by("code"))
    active = {i.acquirer_id: i for i in Incident.objects.active().order_by("started_at")}
    windows = maintenance_windows(now=now)
    overview = []
    for bank in banks:
        status = BankStatus(bank=bank, incident=active.get(bank.pk))
        status.windows = [w for w in windows if w.bank_id in (None, bank.pk)]
        if status.incident is not None:
            status.state = DEGRADED
        elif any(w.starts_at <= now for w in status.windows):
            status.state = MAINTENANCE
        overview.append(status)
    return overview
