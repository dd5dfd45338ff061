"""Reads of the public status page: four queries whatever the number of banks or incidents.

An acquirer's state: "degraded" while it has an active incident (open or confirmed), else
"maintenance" while an acquirer announcement for it (or for all acquirers) is in its window,
else "operational". A card-network switch (Bank.is_network) has no incidents of its own (they are
detected per acquirer): it is "degraded" while a critical network announcement for it is in its
window, "maintenance" while any other one is. Announced windows starting in the next
UPCOMING_DAYS are listed too.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from diagnosis.models import Bank, Incident
from knowledge.models import Announcement

HISTORY_DAYS = 30
UPCOMING_DAYS = 14
OPERATIONAL, DEGRADED, MAINTENANCE = "operational", "degraded", "maintenance"


@dataclass
class BankStatus:
    bank: Bank
    kind: str = "acquirer"  # or "network"
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
    """Announcements for acquirers and networks in their window now or starting within
    UPCOMING_DAYS."""
    now = now or timezone.now()
    return list(
        Announcement.objects.filter(
            bank_role__in=[Announcement.BankRole.ACQUIRER, Announcement.BankRole.NETWORK],
            starts_at__lte=now + timedelta(days=UPCOMING_DAYS),
        )
        .exclude(ends_at__lte=now)
        .select_related("bank")
        .order_by("starts_at")
    )


def status_overview(*, now=None) -> list[BankStatus]:
    """Acquirers first, then card-network switches, each by code (three queries)."""
    now = now or timezone.now()
    banks = Bank.objects.filter(Q(is_acquirer=True) | Q(is_network=True))
    banks = sorted(banks, key=lambda bank: (not bank.is_acquirer, bank.code))
    active = {i.acquirer_id: i for i in Incident.objects.active().order_by("started_at")}
    windows = maintenance_windows(now=now)
    overview = []
    for bank in banks:
        kind = "acquirer" if bank.is_acquirer else "network"
        status = BankStatus(bank=bank, kind=kind, incident=active.get(bank.pk))
        status.windows = [
            w for w in windows if w.bank_role == kind and w.bank_id in (None, bank.pk)
        ]
        running = [w for w in status.windows if w.starts_at <= now]
        if status.incident is not None or any(
            kind == "network" and w.severity == Announcement.Severity.CRITICAL for w in running
        ):
            status.state = DEGRADED
        elif running:
            status.state = MAINTENANCE
        overview.append(status)
    return overview
