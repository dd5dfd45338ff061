"""Banners on every page: active incidents (agents, merchants, visitors) and, for merchant users
on the wizard and ticket pages, their terminals that look faulty. Lazy: nothing is queried unless
the banner template reads it, and incidents come from a short cache."""

from django.utils.functional import SimpleLazyObject

from diagnosis.core import permissions
from diagnosis.insight import alerts, terminal_health

# Pages where a merchant sees "your terminal … may need maintenance".
TERMINAL_NOTICE_PAGES = {"wizard", "ticket_list", "ticket_detail", "ticket_new"}


def _terminal_notices(request):
    user = request.user
    match = getattr(request, "resolver_match", None)
    if not permissions.is_merchant_user(user) or match is None:
        return []
    if match.url_name not in TERMINAL_NOTICE_PAGES:
        return []
    return sorted(terminal_health.flagged_for_merchant(user.merchant_id))


def insight_alerts(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {
        "incident_alerts": SimpleLazyObject(lambda: alerts.incidents_for(user)),
        "incident_alerts_for_agent": SimpleLazyObject(lambda: permissions.can_use_desk(user)),
        "faulty_terminals": SimpleLazyObject(lambda: _terminal_notices(request)),
    }
