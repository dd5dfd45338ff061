"""The SLA clock: first reply, next reply and resolution targets per priority, in working hours,
paused while the ticket waits on someone else.

The clock runs only while the ticket is *ours* to move: status "new" or "in progress". While it
waits on the merchant ("waiting for merchant") or on the bank ("escalated") it is paused, and once
resolved or closed it stops. The periods come from the ticket's status history (TicketEvent rows
of kind "status"), so nothing has to be kept in step by hand; working time is counted with the
calendar of `sla.py` (working days, hours, holidays).

- first reply: from creation to the first public reply of an agent;
- next reply: from the merchant's oldest unanswered public reply to the agent's next public reply;
- resolution: from creation to resolution (a reopened ticket's clock goes on where it stopped).

`ticket_sla(ticket, events)` reports each target; `ticket_sla_refresh(ticket)` stores the
earliest running deadline in `Ticket.sla_due_at` (NULL while paused or done), which the queue
sorts and filters on ("due soonest", breached, near breach). The services call it after every
write to the timeline, so the stored deadline moves exactly when a pause starts or ends.
"""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.tickets import sla

RUNNING_STATUSES = frozenset({"new", "in_progress"})
PAUSED_STATUSES = frozenset({"waiting_merchant", "escalated"})
TARGETS = (
    ("first_reply", _("首次回复")),
    ("next_reply", _("再次回复")),
    ("resolution", _("解决")),
)


def target_hours(priority: str) -> dict[str, float]:
    """{target name: working hours} for a priority (SLA_TARGET_HOURS)."""
    table = getattr(settings, "SLA_TARGET_HOURS", {})
    hours = table.get(priority) or table.get("normal") or (4.0, 8.0, 36.0)
    return {name: float(h) for (name, _label), h in zip(TARGETS, hours, strict=True)}


@dataclass
class Fact:
    """What the clock needs of one timeline event."""

    kind: str
    created_at: datetime
    new_value: str = ""
    is_internal: bool = False
    by_merchant: bool = False


@dataclass
class Target:
    name: str
    label: str
    hours: float
    state: str  # "met", "met_late", "running", "paused", "breached", "stopped"
    elapsed_seconds: float
    remaining_seconds: float  # negative once breached
    due_at: datetime | None  # running: when it falls due (or fell due); else None
    done_at: datetime | None = None

    @property
    def remaining_hm(self) -> tuple[int, int]:
        """(hours, minutes) of working time left."""
        return divmod(max(0, int(self.remaining_seconds // 60)), 60)

    @property
    def overdue_hm(self) -> tuple[int, int]:
        """(hours, minutes) of working time past the target."""
        return divmod(max(0, int(-self.remaining_seconds // 60)), 60)


def _running_periods(created_at, facts, now):
    """[(start, end)] while the status was new/in progress, and the status now."""
    periods, status, since = [], "new", created_at
    for fact in facts:
        if fact.kind != "status" or not fact.new_value:
            continue
        if status in RUNNING_STATUSES and fact.created_at > since:
            periods.append((since, fact.created_at))
        status, since = fact.new_value, max(since, fact.created_at)
    if status in RUNNING_STATUSES and now > since:
        periods.append((since, now))
    return periods, status


def _measure(name, label, hours, start, stop, periods, status, now) -> Target:
    """Working time the clock ran between `start` and `stop` (None: still running)."""
    target = hours * 3600
    end = stop or now
    elapsed, due_at = 0.0, None
    for low, high in periods:
        low, high = max(low, start), min(high, end)
        if high <= low:
            continue
        seconds = sla.working_seconds_between(low, high)
        if due_at is None and elapsed + seconds >= target:
            due_at = sla.add_working_hours(low, (target - elapsed) / 3600)
        elapsed += seconds
    remaining = target - elapsed
    if stop is not None:
        state = "met" if remaining >= 0 else "met_late"
        return Target(name, label, hours, state, elapsed, remaining, None, stop)
    if status not in RUNNING_STATUSES and status not in PAUSED_STATUSES:
        return Target(name, label, hours, "stopped", elapsed, remaining, None)
    if remaining < 0:
        return Target(name, label, hours, "breached", elapsed, remaining, due_at)
    if status in PAUSED_STATUSES:
        return Target(name, label, hours, "paused", elapsed, remaining, None)
    due_at = sla.add_working_hours(now, remaining / 3600)
    return Target(name, label, hours, "running", elapsed, remaining, due_at)


def ticket_sla(*, created_at, priority, facts, now=None) -> list[Target]:
    """The three targets of a ticket whose timeline is `facts` (oldest first)."""
    now = now or timezone.now()
    facts = sorted(facts, key=lambda f: f.created_at)
    periods, status = _running_periods(created_at, facts, now)
    hours = target_hours(priority)
    labels = dict(TARGETS)
    public = [f for f in facts if f.kind == "reply" and not f.is_internal]
    first = next((f.created_at for f in public if not f.by_merchant), None)
    targets = [
        _measure(
            "first_reply",
            labels["first_reply"],
            hours["first_reply"],
            created_at,
            first,
            periods,
            status,
            now,
        )
    ]
    if first is not None:
        # The merchant's oldest public reply after the agents' last one, if any.
        waiting_since = None
        for fact in public:
            if fact.created_at < first:
                continue
            # an agent's reply answers everything before it
            waiting_since = (waiting_since or fact.created_at) if fact.by_merchant else None
        if waiting_since is not None:
            targets.append(
                _measure(
                    "next_reply",
                    labels["next_reply"],
                    hours["next_reply"],
                    waiting_since,
                    None,
                    periods,
                    status,
                    now,
                )
            )
    resolved_at = None
    if status not in RUNNING_STATUSES and status not in PAUSED_STATUSES:
        resolved_at = next(
            (f.created_at for f in reversed(facts) if f.kind == "status"), created_at
        )
    targets.append(
        _measure(
            "resolution",
            labels["resolution"],
            hours["resolution"],
            created_at,
            resolved_at,
            periods,
            status,
            now,
        )
    )
    return targets


def facts_from_events(events) -> list[Fact]:
    """Facts from TicketEvent instances (author loaded) — the ticket page has them already."""
    return [
        Fact(
            kind=e.kind,
            created_at=e.created_at,
            new_value=e.new_value,
            is_internal=e.is_internal,
            by_merchant=bool(e.author_id and getattr(e.author, "merchant_id", None)),
        )
        for e in events
    ]


def facts_for_ticket(ticket) -> list[Fact]:
    """One query: the status changes and replies of a ticket."""
    from diagnosis.models import TicketEvent

    rows = (
        TicketEvent.objects.filter(ticket_id=ticket.pk, kind__in=("status", "reply"))
        .order_by("created_at", "pk")
        .values_list("kind", "created_at", "new_value", "is_internal", "author__merchant_id")
    )
    return [
        Fact(k, at, new, internal, merchant is not None) for k, at, new, internal, merchant in rows
    ]


def next_due(targets) -> datetime | None:
    """The earliest deadline among running or breached targets (the queue's "due soonest")."""
    dues = [t.due_at for t in targets if t.state in ("running", "breached") and t.due_at]
    return min(dues) if dues else None


def new_ticket_due(created_at, priority="normal") -> datetime:
    """`sla_due_at` of a ticket just created: its first-reply deadline (no query)."""
    targets = ticket_sla(created_at=created_at, priority=priority, facts=[], now=created_at)
    return next_due(targets)


def ticket_sla_refresh(ticket, *, now=None) -> datetime | None:
    """Recompute and store `ticket.sla_due_at` (two queries: the facts, one UPDATE)."""
    from diagnosis.models import Ticket

    targets = ticket_sla(
        created_at=ticket.created_at,
        priority=ticket.priority,
        facts=facts_for_ticket(ticket),
        now=now,
    )
    due = next_due(targets)
    if due != ticket.sla_due_at:
        Ticket.objects.filter(pk=ticket.pk).update(sla_due_at=due)
        ticket.sla_due_at = due
    return due
