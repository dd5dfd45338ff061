"""First-response targets counted in working hours.

Settings (config/settings/base.py, each overridable by an environment variable):
- FIRST_RESPONSE_HOURS (default 4): working hours an agent has for the first public reply;
- WORKING_HOURS_TIMEZONE (default Asia/Shanghai), WORKING_HOURS_START / _END ("09:00", "18:00"),
  WORKING_DAYS (ISO weekdays, default 1–5 = Monday–Friday);
- SLA_HOLIDAYS: dates (YYYY-MM-DD) that are not working days.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from diagnosis.tickets import workflow


def _parse_time(value: str, default: time) -> time:
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (TypeError, ValueError):
        return default


def working_hours():
    """(zone, start, end, working ISO weekdays, holidays) from settings."""
    zone = ZoneInfo(getattr(settings, "WORKING_HOURS_TIMEZONE", "Asia/Shanghai"))
    start = _parse_time(getattr(settings, "WORKING_HOURS_START", "09:00"), time(9))
    end = _parse_time(getattr(settings, "WORKING_HOURS_END", "18:00"), time(18))
    # Only real ISO weekdays count; anything else is ignored (no working day → clock hours).
    days = frozenset(d for d in getattr(settings, "WORKING_DAYS", (1, 2, 3, 4, 5)) if 1 <= d <= 7)
    holidays = set()
    for item in getattr(settings, "SLA_HOLIDAYS", ()):
        try:
            holidays.add(item if isinstance(item, date) else date.fromisoformat(str(item)))
        except ValueError:
            continue
    return zone, start, end, days, holidays


def is_working_day(day: date, days, holidays) -> bool:
    return day.isoweekday() in days and day not in holidays


def add_working_hours(start: datetime, hours: float) -> datetime:
    """The moment `hours` working hours after `start` (aware datetimes in, aware UTC out)."""
    zone, day_start, day_end, days, holidays = working_hours()
    if day_end <= day_start or not days:
        # Misconfigured working hours: fall back to plain clock hours rather than loop forever.
        return start + timedelta(hours=hours)
    remaining = timedelta(hours=float(hours))
    current = start.astimezone(zone)
    # Bounded: at most one iteration per calendar day in the target (plus slack for holidays).
    for _step in range(3700):
        day = current.date()
        opens = datetime.combine(day, day_start, tzinfo=zone)
        closes = datetime.combine(day, day_end, tzinfo=zone)
        if not is_working_day(day, days, holidays) or current >= closes:
            current = datetime.combine(day + timedelta(days=1), day_start, tzinfo=zone)
            continue
        current = max(current, opens)
        available = closes - current
        if remaining <= available:
            return (current + remaining).astimezone(UTC)
        remaining -= available
        current = datetime.combine(day + timedelta(days=1), day_start, tzinfo=zone)
    return (start + timedelta(hours=hours)).astimezone(UTC)


def first_response_due(created_at: datetime | None = None) -> datetime:
    """When the first public reply to a ticket created at `created_at` is due."""
    created_at = created_at or timezone.now()
    return add_working_hours(created_at, getattr(settings, "FIRST_RESPONSE_HOURS", 4))


def is_overdue(ticket, *, now=None) -> bool:
    """No first public reply yet and the due time has passed (resolved and closed tickets are
    never overdue). `overdue_q` is the same rule as a query filter."""
    if ticket.first_responded_at or not ticket.first_response_due:
        return False
    if ticket.status in workflow.DONE_STATUSES:
        return False
    return (now or timezone.now()) > ticket.first_response_due


def overdue_q(now=None) -> Q:
    """The tickets `is_overdue` says yes to, as a filter (the desk queue's "overdue only")."""
    return Q(first_responded_at__isnull=True, first_response_due__lt=now or timezone.now()) & ~Q(
        status__in=sorted(workflow.DONE_STATUSES)
    )


def working_seconds_between(start: datetime, end: datetime) -> float:
    """Working seconds from `start` to `end` (0 when end <= start); the inverse of
    `add_working_hours`: add_working_hours(start, working_seconds_between(start, end) / 3600)
    is the first working moment at or after the last one before `end`."""
    if end <= start:
        return 0.0
    zone, day_start, day_end, days, holidays = working_hours()
    if day_end <= day_start or not days:
        return (end - start).total_seconds()
    current, end = start.astimezone(zone), end.astimezone(zone)
    total = 0.0
    while current < end:
        day = current.date()
        if is_working_day(day, days, holidays):
            opens = datetime.combine(day, day_start, tzinfo=zone)
            closes = datetime.combine(day, day_end, tzinfo=zone)
            low, high = max(current, opens), min(end, closes)
            if high > low:
                total += (high - low).total_seconds()
        current = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return total
