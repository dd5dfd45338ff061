"""First-response deadlines in working hours, pinned at their edges.

Default calendar: Asia/Shanghai, 09:00–18:00, Monday–Friday, no holidays, 4 working hours.
2026-03-02 is a Monday.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from diagnosis.models import Ticket
from diagnosis.tickets import sla

SH = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0, zone=SH):
    return datetime(2026, 3, day, hour, minute, tzinfo=zone)


@pytest.fixture(autouse=True)
def calendar(settings):
    settings.WORKING_HOURS_TIMEZONE = "Asia/Shanghai"
    settings.WORKING_HOURS_START = "09:00"
    settings.WORKING_HOURS_END = "18:00"
    settings.WORKING_DAYS = [1, 2, 3, 4, 5]
    settings.SLA_HOLIDAYS = []
    settings.FIRST_RESPONSE_HOURS = 4
    return settings


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        (at(2, 14), 4, at(2, 18)),  # ends exactly at closing time: the same day, not tomorrow
        (at(2, 14, 1), 4, at(3, 9, 1)),  # one minute later spills into the next morning
        (at(2, 9), 9, at(2, 18)),  # a whole working day
        (at(2, 8), 1, at(2, 10)),  # before opening: the clock starts at 09:00
        (at(2, 18), 1, at(3, 10)),  # at closing time: nothing left today
        (at(2, 23), 1, at(3, 10)),  # at night
        (at(6, 16), 4, at(9, 11)),  # Friday afternoon → Monday morning
        (at(7, 12), 4, at(9, 13)),  # Saturday counts nothing
        (at(8, 12), 4, at(9, 13)),  # nor Sunday
        (at(2, 10), 0, at(2, 10)),  # zero hours: due at once
        (at(2, 18), 0, at(3, 9)),  # zero hours at closing time: when the desk next opens
        (at(2, 10), 18, at(4, 10)),  # two full working days
    ],
)
def test_add_working_hours(start, hours, due):
    assert sla.add_working_hours(start, hours) == due.astimezone(UTC)


def test_result_is_utc():
    result = sla.add_working_hours(at(2, 10), 1)
    assert result.tzinfo == UTC


def test_holidays_are_skipped(calendar):
    calendar.SLA_HOLIDAYS = ["2026-03-09", "not-a-date"]  # the bad entry is ignored
    assert sla.add_working_hours(at(6, 16), 4) == at(10, 11).astimezone(UTC)


def test_a_start_in_another_zone_is_converted(calendar):
    utc_start = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
    assert sla.add_working_hours(utc_start, 4) == at(2, 18).astimezone(UTC)


def test_daylight_saving_change_in_the_working_zone(calendar):
    calendar.WORKING_HOURS_TIMEZONE = "Europe/Berlin"
    berlin = ZoneInfo("Europe/Berlin")
    # Clocks go forward on Sunday 2026-03-29; Friday 16:00 + 4 h → Monday 11:00 local (CEST).
    start = datetime(2026, 3, 27, 16, 0, tzinfo=berlin)
    assert sla.add_working_hours(start, 4) == datetime(2026, 3, 30, 11, 0, tzinfo=berlin)


def test_a_calendar_without_any_working_day_ahead_falls_back_to_clock_hours(calendar):
    first = at(2, 0).date()
    calendar.SLA_HOLIDAYS = [str(first + timedelta(days=n)) for n in range(12 * 366)]
    assert sla.add_working_hours(at(2, 10), 4) == at(2, 14).astimezone(UTC)


def test_first_response_due_uses_the_setting(calendar):
    calendar.FIRST_RESPONSE_HOURS = 2
    assert sla.first_response_due(at(2, 10)) == at(2, 12).astimezone(UTC)


@pytest.mark.parametrize(
    ("start", "end", "days", "expected"),
    [
        ("9am", "18:00", [1, 2, 3, 4, 5], at(9, 13)),  # unreadable start → 09:00 default
        ("09:00", "6pm", [1, 2, 3, 4, 5], at(9, 13)),  # unreadable end → 18:00 default
        ("18:00", "09:00", [1, 2, 3, 4, 5], at(7, 13)),  # end before start → clock hours
        ("09:00", "09:00", [1, 2, 3, 4, 5], at(7, 13)),  # empty day → clock hours
        ("09:00", "18:00", [], at(7, 13)),  # no working day → clock hours
        ("09:00", "18:00", [8, 0], at(7, 13)),  # no real weekday → clock hours
    ],
)
def test_malformed_working_hours_never_hang(calendar, start, end, days, expected):
    calendar.WORKING_HOURS_START = start
    calendar.WORKING_HOURS_END = end
    calendar.WORKING_DAYS = days
    # Saturday 09:00 + 4 h: with a readable calendar that is Monday 13:00; without one, the
    # deadline falls back to plain clock hours (Saturday 13:00).
    assert sla.add_working_hours(at(7, 9), 4) == expected.astimezone(UTC)


def _ticket(status="new", due=None, responded=None):
    return Ticket(status=status, first_response_due=due, first_responded_at=responded)


@pytest.mark.parametrize(
    ("status", "responded", "due_offset", "overdue"),
    [
        ("new", False, -1, True),
        ("in_progress", False, -1, True),
        ("waiting_merchant", False, -1, True),
        ("escalated", False, -1, True),
        ("resolved", False, -1, False),  # done tickets are never overdue
        ("closed", False, -1, False),
        ("new", True, -1, False),  # already answered
        ("new", False, 0, False),  # due exactly now: not yet overdue
        ("new", False, 1, False),
        ("new", False, None, False),  # no deadline
    ],
)
def test_is_overdue(status, responded, due_offset, overdue):
    now = at(2, 12)
    due = None if due_offset is None else now + timedelta(seconds=due_offset)
    ticket = _ticket(status, due=due, responded=now - timedelta(hours=1) if responded else None)
    assert sla.is_overdue(ticket, now=now) is overdue
    assert sla.is_overdue(ticket=ticket, now=now) is overdue


@pytest.mark.parametrize(
    ("start", "end", "due"),
    [
        ("9am", "18:00", at(3, 11)),  # unreadable start → 09:00
        ("09:00", "6pm", at(3, 11)),  # unreadable end → 18:00
        (None, None, at(3, 11)),
        ("10:00", "18:00", at(3, 12)),  # a readable calendar is used as written
    ],
)
def test_unreadable_hours_fall_back_to_the_defaults(calendar, start, end, due):
    calendar.WORKING_HOURS_START = start
    calendar.WORKING_HOURS_END = end
    # Monday 16:00 + 4 working hours: 2 today, 2 tomorrow from opening time.
    assert sla.add_working_hours(at(2, 16), 4) == due.astimezone(UTC)


def test_without_any_setting_the_defaults_apply(settings):
    for name in (
        "WORKING_HOURS_TIMEZONE",
        "WORKING_HOURS_START",
        "WORKING_HOURS_END",
        "WORKING_DAYS",
        "SLA_HOLIDAYS",
        "FIRST_RESPONSE_HOURS",
    ):
        delattr(settings, name)
    zone, start, end, days, holidays = sla.working_hours()
    assert (str(zone), start.isoformat(), end.isoformat()) == (
        "Asia/Shanghai",
        "09:00:00",
        "18:00:00",
    )
    assert (days, holidays) == (frozenset({1, 2, 3, 4, 5}), set())
    assert sla.first_response_due(at(6, 16)) == at(9, 11).astimezone(UTC)  # Friday → Monday


def test_working_hours_reads_every_setting(calendar):
    from datetime import date, time

    calendar.WORKING_HOURS_TIMEZONE = "Europe/Berlin"
    calendar.WORKING_HOURS_START = "08:30"
    calendar.WORKING_HOURS_END = "17:15"
    calendar.WORKING_DAYS = [0, 1, 7, 8]
    calendar.SLA_HOLIDAYS = [date(2026, 5, 1), "2026-10-01", "bad"]
    assert sla.working_hours() == (
        ZoneInfo("Europe/Berlin"),
        time(8, 30),
        time(17, 15),
        frozenset({1, 7}),
        {date(2026, 5, 1), date(2026, 10, 1)},
    )


def test_first_response_due_defaults_to_now(calendar):
    calendar.WORKING_DAYS = [1, 2, 3, 4, 5, 6, 7]
    calendar.WORKING_HOURS_START = "00:00"
    calendar.WORKING_HOURS_END = "23:59"
    before = datetime.now(UTC)
    due = sla.first_response_due()
    assert before + timedelta(hours=4) <= due <= datetime.now(UTC) + timedelta(hours=4, minutes=2)


@pytest.mark.django_db
def test_the_overdue_filter_is_the_same_rule():
    from tests import factories

    now = at(2, 12)  # far from the real clock: the filter must use the `now` it is given
    cases = {
        "late": ("new", None, -1),
        "late in progress": ("in_progress", None, -1),
        "late waiting": ("waiting_merchant", None, -1),
        "late escalated": ("escalated", None, -1),
        "resolved": ("resolved", None, -1),
        "closed": ("closed", None, -1),
        "answered": ("new", now - timedelta(hours=1), -1),
        "due now": ("new", None, 0),
        "not yet due": ("new", None, 1),
    }
    numbers = {}
    for name, (status, responded, offset) in cases.items():
        ticket = factories.ticket()
        Ticket.objects.filter(pk=ticket.pk).update(
            status=status,
            first_responded_at=responded,
            first_response_due=now + timedelta(seconds=offset),
        )
        numbers[ticket.pk] = name
    overdue = {
        numbers[pk] for pk in Ticket.objects.filter(sla.overdue_q(now)).values_list("pk", flat=True)
    }
    assert overdue == {"late", "late in progress", "late waiting", "late escalated"}
    by_rule = {numbers[t.pk] for t in Ticket.objects.all() if sla.is_overdue(t, now=now)}
    assert by_rule == overdue
    # Without `now`: the real clock, by which every one of them is long due.
    real = {
        numbers[pk] for pk in Ticket.objects.filter(sla.overdue_q()).values_list("pk", flat=True)
    }
    assert real == overdue | {"due now", "not yet due"}
    assert sla.is_overdue(
        Ticket.objects.get(pk=next(k for k, v in numbers.items() if v == "not yet due"))
    )


def test_an_empty_working_day_means_clock_hours_even_for_zero_hours(calendar):
    calendar.WORKING_HOURS_START = calendar.WORKING_HOURS_END = "09:00"
    assert sla.add_working_hours(at(7, 9), 0) == at(7, 9).astimezone(UTC)  # Saturday, as is
