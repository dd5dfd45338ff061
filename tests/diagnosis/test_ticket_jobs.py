"""Jobs that run on their own: auto-close with a reminder, first-reply deadline warnings, the
daily digest, quiet incidents resolved — each idempotent (run twice, mail once)."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from diagnosis.insight.detection import resolve_stale_incidents
from diagnosis.models import Incident, OutgoingMail, Ticket
from diagnosis.tickets import jobs
from diagnosis.tickets.services import ticket_change_status, ticket_reply
from tests import factories

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime(*args, tzinfo=SH)


def ticket_at(merchant_user, created):
    return factories.ticket(
        merchant=merchant_user.merchant,
        user=merchant_user,
        now=created,
        transaction_time=created - timedelta(hours=1),
    )


def resolved_ticket(merchant_user, agent, *, days_ago):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    ticket_change_status(ticket=ticket, actor=agent, status="resolved")
    Ticket.objects.filter(pk=ticket.pk).update(
        resolved_at=timezone.now() - timedelta(days=days_ago)
    )
    return ticket


# --- auto-close --------------------------------------------------------------------------------


def test_resolved_tickets_are_reminded_then_closed(
    merchant_user, agent, settings, django_capture_on_commit_callbacks
):
    settings.AUTO_CLOSE_DAYS, settings.AUTO_CLOSE_REMIND_DAYS = 7, 2
    english = factories.merchant_user(merchant=merchant_user.merchant, language="en")
    fresh = resolved_ticket(merchant_user, agent, days_ago=1)
    due_reminder = resolved_ticket(merchant_user, agent, days_ago=5.5)
    overdue = resolved_ticket(merchant_user, agent, days_ago=8)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        done = jobs.auto_close()
    assert done == {"closed": [overdue.number], "reminded": [due_reminder.number]}
    overdue.refresh_from_db()
    assert overdue.status == "closed" and overdue.closed_at is not None
    assert overdue.events.filter(kind="status", new_value="closed", author=None).exists()
    fresh.refresh_from_db()
    assert fresh.status == due_reminder.status == "resolved"
    by_to = {m.to[0]: m for m in mail.outbox if due_reminder.number in m.subject}
    assert "即将自动关闭" in by_to[merchant_user.email].subject
    assert "will be closed automatically" in by_to[english.email].subject
    closed_mail = [m for m in mail.outbox if overdue.number in m.subject]
    assert any("自动关闭" in m.body for m in closed_mail)
    assert any("closed automatically" in m.body for m in closed_mail)

    mail.outbox.clear()
    assert jobs.auto_close() == {"closed": [], "reminded": []}  # idempotent
    assert mail.outbox == []


def test_a_merchant_reopening_stops_the_clock(merchant_user, agent, settings):
    ticket = resolved_ticket(merchant_user, agent, days_ago=8)
    ticket_change_status(ticket=ticket, actor=merchant_user, status="in_progress")
    assert jobs.auto_close() == {"closed": [], "reminded": []}
    ticket.refresh_from_db()
    assert ticket.status == "in_progress"


def test_a_reply_starts_the_clock_again(merchant_user, agent, settings):
    settings.AUTO_CLOSE_DAYS, settings.AUTO_CLOSE_REMIND_DAYS = 7, 2
    ticket = resolved_ticket(merchant_user, agent, days_ago=8)
    ticket_reply(ticket=ticket, author=agent, body="补充说明：银行已确认恢复。")
    assert jobs.auto_close() == {"closed": [], "reminded": []}
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    # Five and a half days after that reply: the reminder, not the closing.
    later = timezone.now() + timedelta(days=5.5)
    assert jobs.auto_close(now=later)["reminded"] == [ticket.number]
    assert jobs.auto_close(now=later + timedelta(days=2))["closed"] == [ticket.number]


def test_the_command_runs_the_job(merchant_user, agent, capsys):
    resolved_ticket(merchant_user, agent, days_ago=30)
    call_command("auto_close_tickets")
    assert "closed: 1 ticket(s)" in capsys.readouterr().out


# --- first-reply deadlines ---------------------------------------------------------------------


def test_agents_are_warned_before_and_when_a_deadline_passes(merchant_user, settings):
    agents = [factories.agent(), factories.agent(language="en")]
    created = at(2026, 3, 2, 10, 0)  # Monday: due at 14:00
    ticket = ticket_at(merchant_user, created)
    mail.outbox.clear()
    assert jobs.sla_warnings(now=at(2026, 3, 2, 13, 0)) == {"warned": [], "missed": []}
    assert jobs.sla_warnings(now=at(2026, 3, 2, 13, 35)) == {
        "warned": [ticket.number],
        "missed": [],
    }
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert set(subjects) == {a.email for a in agents}  # unassigned: every agent
    assert "即将超时" in subjects[agents[0].email]
    assert "due soon" in subjects[agents[1].email]
    assert jobs.sla_warnings(now=at(2026, 3, 2, 13, 40))["warned"] == []  # once per deadline
    assert jobs.sla_warnings(now=at(2026, 3, 2, 14, 5)) == {"warned": [], "missed": [ticket.number]}
    assert len(mail.outbox) == 4
    assert jobs.sla_warnings(now=at(2026, 3, 2, 14, 10))["missed"] == []


def test_warnings_count_working_time_and_go_to_the_assignee(merchant_user, agent):
    from diagnosis.tickets.services import ticket_assign

    factories.agent()  # not told: the ticket has an assignee
    created = at(2026, 3, 6, 14, 15)  # Friday 14:15: due Monday 09:15
    ticket = ticket_at(merchant_user, created)
    ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    mail.outbox.clear()
    # Friday 17:50 is 25 working minutes before Monday 09:15 (the weekend does not count).
    assert jobs.sla_warnings(now=at(2026, 3, 6, 17, 50))["warned"] == [ticket.number]
    assert [m.to for m in mail.outbox] == [[agent.email]]


def test_the_desk_marks_tickets_due_soon(client, agent, merchant_user):
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due=timezone.now() + timedelta(minutes=10)
    )
    factories.sign_in(client, agent)
    page = client.get("/desk/").content.decode()
    assert "row-due-soon" in page and "即将超时" in page


# --- daily digest ------------------------------------------------------------------------------


def test_the_daily_digest_goes_to_agents_who_asked_once_a_working_day(merchant_user, settings):
    settings.DIGEST_TIME = "08:30"
    wants = factories.agent(daily_digest=True, language="en")
    factories.agent()  # did not ask
    factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    mail.outbox.clear()
    assert jobs.daily_digests(now=at(2026, 3, 2, 8, 0)) == 0  # Monday, too early
    assert jobs.daily_digests(now=at(2026, 3, 7, 9, 0)) == 0  # Saturday
    assert jobs.daily_digests(now=at(2026, 3, 2, 8, 45)) == 1
    assert [m.to for m in mail.outbox] == [[wants.email]]
    body = mail.outbox[0].body
    assert "Open tickets: 1" in body and "Unassigned: 1" in body and "/en/desk/" in body
    assert jobs.daily_digests(now=at(2026, 3, 2, 9, 45)) == 0  # once a day
    assert jobs.daily_digests(now=at(2026, 3, 3, 8, 45)) == 1  # the next working day


# --- incidents ---------------------------------------------------------------------------------


def test_quiet_incidents_are_resolved(settings):
    settings.INCIDENT_RESOLVE_MINUTES = 120
    bank = factories.bank()
    now = timezone.now()
    quiet = Incident.objects.create(
        acquirer=bank, started_at=now - timedelta(hours=5), last_ticket_at=now - timedelta(hours=3)
    )
    busy = Incident.objects.create(
        acquirer=factories.bank(),
        started_at=now - timedelta(hours=1),
        last_ticket_at=now - timedelta(minutes=10),
    )
    assert resolve_stale_incidents(now=now) == [quiet]
    quiet.refresh_from_db()
    busy.refresh_from_db()
    assert (quiet.status, busy.status) == ("resolved", "open")
    assert quiet.ended_at == now


# --- mail delivery -----------------------------------------------------------------------------


class DownBackend:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        raise ConnectionRefusedError("mail server down")

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_failed_mail_is_retried_with_back_off_then_kept_as_failed(
    merchant_user, agent, settings, caplog, django_capture_on_commit_callbacks
):
    from diagnosis.tickets import notifications

    settings.MAIL_RETRY_SECONDS, settings.MAIL_MAX_ATTEMPTS = 30, 3
    settings.EMAIL_BACKEND = "tests.diagnosis.test_ticket_jobs.DownBackend"
    ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    assert notifications.ticket_created(ticket.pk) == 0
    row = OutgoingMail.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in row.last_error and "failed (attempt 1)" in caplog.text
    first_wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)
    assert notifications.deliver_due() == 0  # not due yet
    OutgoingMail.objects.update(next_attempt_at=timezone.now())
    notifications.deliver_due()
    row.refresh_from_db()
    assert row.attempts == 2 and row.next_attempt_at - timezone.now() > timedelta(seconds=55)
    OutgoingMail.objects.update(next_attempt_at=timezone.now())
    notifications.deliver_due()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert notifications.send_again([row.pk]) == 1  # the admin's "send again"
    row.refresh_from_db()
    assert row.status == "sent" and [m.to for m in mail.outbox] == [[agent.email]]
    assert notifications.ticket_created(ticket.pk) == 0  # built once: never sent twice
    assert len(mail.outbox) == 1


def test_mail_rows_hold_no_card_number(merchant_user, agent):
    ticket = factories.ticket(
        merchant=merchant_user.merchant,
        user=merchant_user,
        description="卡号 6228480012345678901 被拒",
    )
    from diagnosis.tickets import notifications

    notifications.ticket_created(ticket.pk)
    row = OutgoingMail.objects.get()
    assert "6228480012345678901" not in row.body and "622848" in row.body
