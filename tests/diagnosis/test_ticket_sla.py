"""First response due: 4 working hours (Mon–Fri 09:00–18:00 Asia/Shanghai) by default."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from diagnosis.models import Ticket
from diagnosis.tickets import sla

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(
    ("created", "due"),
    [
        (at(2026, 3, 2, 10, 0), at(2026, 3, 2, 14, 0)),  # Monday morning, same day
        (at(2026, 3, 2, 16, 30), at(2026, 3, 3, 11, 30)),  # 1.5 h today, 2.5 h tomorrow
        (at(2026, 3, 2, 7, 0), at(2026, 3, 2, 13, 0)),  # before opening: counts from 09:00
        (at(2026, 3, 2, 19, 0), at(2026, 3, 3, 13, 0)),  # after closing
        (at(2026, 3, 6, 17, 0), at(2026, 3, 9, 12, 0)),  # Friday evening → Monday
        (at(2026, 3, 7, 12, 0), at(2026, 3, 9, 13, 0)),  # Saturday → Monday
    ],
)
def test_first_response_due_counts_working_hours(created, due):
    assert sla.first_response_due(created) == due


def test_configurable_hours_and_holidays(settings):
    settings.FIRST_RESPONSE_HOURS = 2
    settings.SLA_HOLIDAYS = ["2026-03-03"]
    assert sla.first_response_due(at(2026, 3, 2, 17, 0)) == at(2026, 3, 4, 10, 0)


def test_configurable_working_day(settings):
    settings.WORKING_HOURS_START = "08:00"
    settings.WORKING_HOURS_END = "20:00"
    settings.WORKING_DAYS = [1, 2, 3, 4, 5, 6]
    assert sla.first_response_due(at(2026, 3, 7, 18, 0)) == at(2026, 3, 9, 10, 0)


def test_is_overdue():
    now = timezone.now()
    ticket = Ticket(status="new", first_response_due=now - timezone.timedelta(minutes=1))
    assert sla.is_overdue(ticket, now=now)
    ticket.first_responded_at = now
    assert not sla.is_overdue(ticket, now=now)
    assert not sla.is_overdue(Ticket(status="closed", first_response_due=now), now=now)
