"""Active incidents for banners (cached; 0 queries on a warm cache, 1 on a cold one)."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from diagnosis.models import Incident

CACHE_KEY = "insight:active-incidents:v1"
CACHE_SECONDS = 30


@dataclass(frozen=True)
class IncidentAlert:
    pk: int
    acquirer_id: int
    name_zh: str
    name_en: str
    started_at: datetime
    merchant_count: int
    status: str

    @property
    def bank_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def since(self) -> str:
        """ "14:05" today, "11-24 14:05" on an earlier day (local time)."""
        local = timezone.localtime(self.started_at)
        if local.date() == timezone.localdate():
            return local.strftime("%H:%M")
        return local.strftime("%m-%d %H:%M")

    @property
    def confirmed(self) -> bool:
        return self.status == Incident.Status.CONFIRMED


def active_incidents() -> list[IncidentAlert]:
    found = cache.get(CACHE_KEY)
    if found is None:
        found = [
            IncidentAlert(
                pk=i.pk,
                acquirer_id=i.acquirer_id,
                name_zh=i.acquirer.name_zh,
                name_en=i.acquirer.name_en,
                started_at=i.started_at,
                merchant_count=i.merchant_count,
                status=i.status,
            )
            for i in Incident.objects.active().select_related("acquirer").order_by("started_at")
        ]
        cache.set(CACHE_KEY, found, CACHE_SECONDS)
    return found


def forget():
    cache.delete(CACHE_KEY)


def merchant_acquirer_id(user):
    from diagnosis.models import Merchant

    return (
        Merchant.objects.filter(pk=user.merchant_id).values_list("acquirer_id", flat=True).first()
    )


def incidents_for(user) -> list[IncidentAlert]:
    """Agents and visitors whose bank is unknown see every active incident (the banner names the
    bank); a merchant user sees only the incidents of their own acquirer."""
    from diagnosis.core import permissions

    found = active_incidents()
    if not found or permissions.is_agent(user) or not permissions.is_merchant_user(user):
        return found
    acquirer_id = merchant_acquirer_id(user)
    return [i for i in found if i.acquirer_id == acquirer_id]


def incidents_leading_wizard(user) -> list[IncidentAlert]:
    """Incidents that make the wizard rank the bank-side outcome first: only for a merchant user
    whose acquirer has an active incident. Anonymous visitors (bank unknown) get the banner but
    not the re-ranking — a bank-specific incident must not mislead the other banks' merchants,
    just as a bank-specific announcement does not re-rank for them."""
    from diagnosis.core import permissions

    found = active_incidents()
    if not found or not permissions.is_merchant_user(user):
        return []
    acquirer_id = merchant_acquirer_id(user)
    return [i for i in found if i.acquirer_id == acquirer_id]


@dataclass(frozen=True)
class TicketIncident:
    alert: IncidentAlert
    linked: bool  # linked to the ticket, or only an incident of the ticket's acquirer


def incidents_for_ticket(ticket) -> list[TicketIncident]:
    """Active incidents a ticket belongs to (the agent's ticket page): its acquirer's active
    incident, marked linked when the ticket is linked to it. Tickets are linked only to
    incidents of their own acquirer (detection and `incident_link_tickets` see to it). 0–2
    queries: the short cache of active incidents, then the link (only if there is one)."""
    found = [i for i in active_incidents() if i.acquirer_id == ticket.acquirer_id]
    if not found:
        return []
    from diagnosis.models import Ticket

    linked = set(
        Ticket.incidents.through.objects.filter(
            ticket_id=ticket.pk, incident_id__in=[i.pk for i in found]
        ).values_list("incident_id", flat=True)
    )
    return [TicketIncident(alert=i, linked=i.pk in linked) for i in found]
