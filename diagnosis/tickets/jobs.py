"""Jobs the desk runs on its own (config/scheduler.py enqueues them; each is also a command).

- `auto_close()`: a resolved ticket nobody answered for AUTO_CLOSE_DAYS is closed; the merchant's
  users are reminded AUTO_CLOSE_REMIND_DAYS before, in their language. The clock starts at the
  resolution or at the last public reply after it, whichever is later: any reply starts it again.
- `sla_warnings()`: the first-reply deadline is SLA_WARNING_MINUTES of *working* time away, or
  has passed: the assignee (or, for an unassigned ticket, every agent) is e-mailed once per
  deadline. The desk queue marks the same tickets ("due soon" / overdue).
- `daily_digests()`: on working days after DIGEST_TIME, each agent who asked for it
  (User.daily_digest) gets one digest: open, overdue, unassigned, theirs, incidents, batches
  waiting on banks.

All of them are idempotent: mail is keyed per ticket, deadline (or clock) and recipient.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.utils import timezone

from diagnosis.models import EscalationBatch, Incident, OutgoingMail, Ticket, TicketEvent
from diagnosis.tickets import notifications, sla, workflow

OPEN_STATUSES = tuple(sorted(workflow.OPEN_STATUSES))
AUTO_CLOSE_BATCH = 200  # tickets closed per run at most (a backlog drains over a few runs)
MISSED_LOOKBACK = timedelta(hours=24)  # a missed deadline is still told after this downtime


def _stamp(moment: datetime) -> str:
    return str(int(moment.timestamp()))


# --- auto-close --------------------------------------------------------------------------------


def auto_close(*, now=None, limit=AUTO_CLOSE_BATCH) -> dict:
    from diagnosis.tickets.services import ticket_auto_close

    now = now or timezone.now()
    days = settings.AUTO_CLOSE_DAYS
    close_before = now - timedelta(days=days)
    remind_before = now - timedelta(days=max(0.0, days - settings.AUTO_CLOSE_REMIND_DAYS))
    closed, reminded = [], []
    candidates = (
        Ticket.objects.filter(status=Ticket.Status.RESOLVED, resolved_at__lte=remind_before)
        .select_related("merchant", "acquirer")
        .annotate(
            last_reply=Max("events__created_at", filter=Q(events__kind=TicketEvent.Kind.REPLY))
        )
        .order_by("resolved_at", "pk")
    )
    reminders = []
    for ticket in candidates[: limit * 5]:
        clock = max(ticket.resolved_at, ticket.last_reply or ticket.resolved_at)
        if clock <= close_before:
            if len(closed) < limit and ticket_auto_close(ticket=ticket, clock_started_at=clock):
                closed.append(ticket.number)
        elif clock <= remind_before:
            reminders.append((ticket, clock))
    if reminders:
        keys = {f"autoclose_reminder:{t.pk}:{_stamp(c)}" for t, c in reminders}
        done = _existing_prefixes(keys, [t.pk for t, _c in reminders])
        for ticket, clock in reminders:
            key = f"autoclose_reminder:{ticket.pk}:{_stamp(clock)}"
            if key in done:
                continue
            close_at = clock + timedelta(days=days)
            notifications.send(
                "autoclose_reminder",
                notifications.merchant_users(ticket),
                {"ticket": ticket, "close_at": close_at},
                key=key,
            )
            reminded.append(ticket.number)
    return {"closed": closed, "reminded": reminded}


def _existing_prefixes(prefixes: set, ticket_ids) -> set:
    """Which of these keys (without the recipient part) have mail already."""
    existing = OutgoingMail.objects.filter(ticket_id__in=list(ticket_ids)).values_list(
        "key", flat=True
    )
    return {key.rsplit(":", 1)[0] for key in existing} & prefixes


# --- first-reply deadlines ---------------------------------------------------------------------


def due_soon_limit(now=None) -> datetime:
    """Deadlines up to this moment are "due soon": SLA_WARNING_MINUTES of working time ahead."""
    return sla.add_working_hours(now or timezone.now(), settings.SLA_WARNING_MINUTES / 60)


def sla_warnings(*, now=None) -> dict:
    now = now or timezone.now()
    waiting = Ticket.objects.filter(
        first_responded_at__isnull=True, status__in=OPEN_STATUSES
    ).select_related("merchant", "acquirer", "assignee")
    soon = list(
        waiting.filter(first_response_due__gt=now, first_response_due__lte=due_soon_limit(now))
    )
    missed = list(
        waiting.filter(first_response_due__lte=now, first_response_due__gt=now - MISSED_LOOKBACK)
    )
    todo = [("sla_warning", t) for t in soon] + [("sla_missed", t) for t in missed]
    if not todo:
        return {"warned": [], "missed": []}
    prefixes = {f"{kind}:{t.pk}:{_stamp(t.first_response_due)}" for kind, t in todo}
    done = _existing_prefixes(prefixes, [t.pk for _kind, t in todo])
    everyone = None
    told = {"sla_warning": [], "sla_missed": []}
    for kind, ticket in todo:
        key = f"{kind}:{ticket.pk}:{_stamp(ticket.first_response_due)}"
        if key in done:
            continue
        if ticket.assignee is not None and ticket.assignee.is_active and ticket.assignee.email:
            recipients = [ticket.assignee]
        else:
            if everyone is None:
                everyone = notifications.agents()
            recipients = everyone
        notifications.send(kind, recipients, {"ticket": ticket, "now": now}, key=key)
        told[kind].append(ticket.number)
    return {"warned": told["sla_warning"], "missed": told["sla_missed"]}


# --- daily digest ------------------------------------------------------------------------------


def _digest_moment(now):
    zone, _start, _end, days, holidays = sla.working_hours()
    local = now.astimezone(zone)
    hour, _sep, minute = settings.DIGEST_TIME.partition(":")
    try:
        at = local.replace(hour=int(hour), minute=int(minute or 0), second=0, microsecond=0)
    except ValueError:
        at = local.replace(hour=8, minute=30, second=0, microsecond=0)
    if not sla.is_working_day(local.date(), days, holidays) or local < at:
        return None
    return local.date()


def digest_numbers(*, now=None) -> dict:
    """What every digest shows (the same for all agents), plus open tickets per assignee."""
    now = now or timezone.now()
    open_tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    mine = dict(
        open_tickets.filter(assignee__isnull=False)
        .values("assignee_id")
        .annotate(n=Count("pk"))
        .values_list("assignee_id", "n")
    )
    return {
        "open": open_tickets.count(),
        "overdue": open_tickets.filter(
            first_responded_at__isnull=True, first_response_due__lt=now
        ).count(),
        "unassigned": open_tickets.filter(assignee__isnull=True).count(),
        "mine": mine,
        "incidents": list(Incident.objects.active().select_related("acquirer")[:20]),
        "batches": list(
            EscalationBatch.objects.filter(status=EscalationBatch.Status.SENT)
            .select_related("acquirer")
            .order_by("sent_at", "pk")[:20]
        ),
        "batches_waiting": EscalationBatch.objects.filter(
            status=EscalationBatch.Status.SENT
        ).count(),
    }


def daily_digests(*, now=None, force=False) -> int:
    """Digests built today (0 before DIGEST_TIME, on days off, or when all went out)."""
    from diagnosis.core.roles import SUPPORT_AGENTS

    now = now or timezone.now()
    day = _digest_moment(now)
    if day is None:
        if not force:
            return 0
        day = timezone.localdate(now)
    users = list(
        get_user_model()
        .objects.filter(daily_digest=True, is_active=True, groups__name=SUPPORT_AGENTS)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    key = f"daily_digest:{day.isoformat()}"
    if (
        not users
        or not force
        and OutgoingMail.objects.filter(key__in=[f"{key}:{u.pk}" for u in users]).count()
        == len(users)
    ):
        return 0
    numbers = digest_numbers(now=now)
    built = []
    for user in users:
        context = {**numbers, "day": day, "my_open": numbers["mine"].get(user.pk, 0)}
        built += notifications.build("daily_digest", [user], context, key=key)
    notifications.deliver(built)
    return len(built)
