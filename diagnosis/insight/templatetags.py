"""Template tags of decline insight (`{% load insight_tags %}`): faulty terminals among listed
tickets, a ticket's incidents, durations in words."""

from django import template

from diagnosis.insight import alerts, terminal_health

register = template.Library()


@register.simple_tag
def flagged_terminals(tickets):
    """{(merchant id, tid): distinct cards} of the terminals among `tickets` that look faulty
    (one query; per merchant + TID)."""
    return terminal_health.flagged_for_tickets(tickets)


@register.simple_tag
def ticket_incidents(ticket):
    """Active incidents `ticket` belongs to, for the agent's ticket page (0–2 queries)."""
    return alerts.incidents_for_ticket(ticket)


@register.filter
def duration_text(value):
    """A timedelta as "2 小时 5 分钟" / "2 h 5 min" (days when long)."""
    from django.utils.translation import gettext

    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 1:
        return gettext("不到 1 分钟")
    days, rest = divmod(minutes, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        return gettext("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return gettext("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": mins}
    return gettext("%(m)d 分钟") % {"m": mins}
