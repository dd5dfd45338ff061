"""The SLA clock of issue #18: targets per priority in working hours, paused while the ticket waits
on the merchant or the bank, across nights, weekends and holidays.

Calendar: Asia/Shanghai, 09:00–18:00, Monday–Friday. 2026-03-02 is a Monday.
Targets used here (working hours): normal = 4 first reply / 8 next reply / 36 resolution.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from diagnosis.tickets import sla
from diagnosis.tickets.sla_clock import Fact, next_due, ticket_sla

SH = ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture(autouse=True)
def calendar(settings):
    settings.WORKING_HOURS_TIMEZONE = "Asia/Shanghai"
    settings.WORKING_HOURS_START = "09:00"
    settings.WORKING_HOURS_END = "18:00"
    settings.WORKING_DAYS = [1, 2, 3, 4, 5]
    settings.SLA_HOLIDAYS = []
    settings.SLA_TARGET_HOURS = {
        "urgent": (1, 2, 8),
        "high": (2, 4, 18),
        "normal": (4, 8, 36),
        "low": (8, 16, 72),
    }
    return settings


def status(when, new):
    return Fact("status", when, new_value=new)


def agent_reply(when):
    return Fact("reply", when)


def merchant_reply(when):
    return Fact("reply", when, by_merchant=True)


def targets(created, facts, now, priority="normal"):
    return {
        t.name: t for t in ticket_sla(created_at=created, priority=priority, facts=facts, now=now)
    }


@pytest.mark.parametrize(
    ("start", "end", "hours"),
    [
        (at(2, 10), at(2, 12), 2),
        (at(2, 17), at(3, 10), 2),  # the night does not count
        (at(6, 17), at(9, 10), 2),  # nor the weekend
        (at(2, 20), at(2, 23), 0),  # a night: nothing
        (at(7, 10), at(8, 18), 0),  # a weekend: nothing
        (at(2, 9), at(9, 9), 45),  # a whole working week
        (at(2, 12), at(2, 11), 0),  # backwards: nothing
    ],
)
def test_working_seconds_between(start, end, hours):
    assert sla.working_seconds_between(start, end) == hours * 3600


def test_working_seconds_skip_holidays(settings):
    settings.SLA_HOLIDAYS = ["2026-03-03"]
    assert sla.working_seconds_between(at(2, 17), at(4, 10)) == 2 * 3600


def test_add_and_count_agree():
    start = at(6, 16, 30)
    due = sla.add_working_hours(start, 5.5)
    assert sla.working_seconds_between(start, due) == 5.5 * 3600


def test_running_clock_counts_working_hours_only():
    t = targets(at(6, 16), [], now=at(9, 10))  # Friday 16:00 → Monday 10:00 = 3 h
    first = t["first_reply"]
    assert first.state == "running"
    assert first.elapsed_seconds == 3 * 3600
    assert first.remaining_hm == (1, 0)
    assert first.due_at == at(9, 11)


def test_targets_follow_priority():
    t = targets(at(2, 9), [], now=at(2, 9, 30), priority="urgent")
    assert t["first_reply"].due_at == at(2, 10)
    assert t["resolution"].due_at == at(2, 17)


def test_waiting_on_merchant_pauses_every_target():
    facts = [agent_reply(at(2, 10)), status(at(2, 10), "waiting_merchant")]
    t = targets(at(2, 9), facts, now=at(5, 15))  # three days later, still waiting
    assert t["first_reply"].state == "met"
    assert t["resolution"].state == "paused"
    assert t["resolution"].elapsed_seconds == 3600  # 09:00–10:00 only
    assert t["resolution"].due_at is None
    assert next_due(t.values()) is None  # a paused ticket never comes due in the queue


def test_waiting_on_bank_pauses_across_a_weekend_and_resumes():
    facts = [
        agent_reply(at(6, 10)),
        status(at(6, 11), "escalated"),  # Friday 11:00 → the bank
        status(at(9, 14), "in_progress"),  # the bank answered Monday 14:00
    ]
    t = targets(at(6, 9), facts, now=at(9, 15))
    # running: Fri 09–11 (2 h) + Mon 14–15 (1 h); the paused Friday afternoon does not count
    assert t["resolution"].elapsed_seconds == 3 * 3600
    assert t["resolution"].state == "running"
    assert t["resolution"].due_at == sla.add_working_hours(at(9, 15), 33)


def test_pause_through_a_holiday_and_nights():
    facts = [status(at(2, 17), "waiting_merchant"), status(at(4, 9, 30), "in_progress")]
    t = targets(at(2, 16), facts, now=at(4, 11))
    # Mon 16–17 (1 h) + Wed 09:30–11 (1.5 h); Mon evening to Wed morning paused anyway
    assert t["first_reply"].elapsed_seconds == 2.5 * 3600
    assert t["first_reply"].due_at == at(4, 12, 30)


def test_holiday_counts_nothing_while_running(settings):
    settings.SLA_HOLIDAYS = ["2026-03-03"]
    t = targets(at(2, 16), [], now=at(4, 10))  # Mon 16–18 + Wed 09–10 = 3 h; Tue is a holiday
    assert t["first_reply"].elapsed_seconds == 3 * 3600
    assert t["first_reply"].due_at == at(4, 11)


def test_breached_target_reports_when_it_fell_due():
    t = targets(at(2, 9), [], now=at(2, 15))
    first = t["first_reply"]
    assert first.state == "breached"
    assert first.due_at == at(2, 13)
    assert first.overdue_hm == (2, 0)
    assert next_due(t.values()) == at(2, 13)


def test_breach_moment_found_inside_a_period_before_a_pause():
    facts = [status(at(2, 15), "waiting_merchant")]
    t = targets(at(2, 9), facts, now=at(3, 12))
    # 6 h ran before the pause: the 4-hour first reply fell due at 13:00 and stays breached
    assert t["first_reply"].state == "breached"
    assert t["first_reply"].due_at == at(2, 13)


def test_next_reply_starts_with_the_merchants_unanswered_reply():
    facts = [
        agent_reply(at(2, 10)),
        merchant_reply(at(2, 16)),
        merchant_reply(at(3, 9, 30)),  # a second message does not restart the clock
    ]
    t = targets(at(2, 9), facts, now=at(3, 11))
    nxt = t["next_reply"]
    assert nxt.state == "running"
    assert nxt.elapsed_seconds == 4 * 3600  # Mon 16–18 + Tue 09–11
    assert nxt.due_at == at(3, 15)


def test_next_reply_met_by_the_agent_answer():
    facts = [agent_reply(at(2, 10)), merchant_reply(at(2, 16)), agent_reply(at(2, 17))]
    t = targets(at(2, 9), facts, now=at(3, 11))
    assert "next_reply" not in t  # nothing waits for an answer


def test_resolution_met_and_stopped():
    facts = [agent_reply(at(2, 10)), status(at(3, 10), "resolved")]
    t = targets(at(2, 9), facts, now=at(20, 10))
    assert t["resolution"].state == "met"
    assert t["resolution"].elapsed_seconds == 10 * 3600
    assert next_due(t.values()) is None


def test_reopened_ticket_clock_goes_on_where_it_stopped():
    facts = [
        agent_reply(at(2, 10)),
        status(at(2, 12), "resolved"),
        status(at(9, 9), "in_progress"),  # reopened a week later
    ]
    t = targets(at(2, 9), facts, now=at(9, 10))
    assert t["resolution"].elapsed_seconds == 4 * 3600  # 3 h before + 1 h after
    assert t["resolution"].state == "running"


def test_resolved_without_reply_stops_first_reply():
    t = targets(at(2, 9), [status(at(2, 10), "resolved")], now=at(2, 17))
    assert t["first_reply"].state == "stopped"


def test_timezones_do_not_matter():
    created = at(2, 9).astimezone(ZoneInfo("UTC"))
    t = targets(created, [], now=created + timedelta(hours=1))
    assert t["first_reply"].elapsed_seconds == 3600
