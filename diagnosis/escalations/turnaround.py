"""Bank turnaround (issue 17): how long each bank takes to answer a batch, what it answers,
and which batches have waited too long.

- `working_days_between(start, end, zone)`: working days after `start`'s date up to `end`'s
  date in the bank's time zone (Bank.time_zone), on the desk's calendar (WORKING_DAYS and the
  SLA_HOLIDAYS of diagnosis/tickets/sla.py: a public holiday is no working day for a bank either).
- `is_overdue(batch, now)`: sent, unanswered, for more than ESCALATION_OVERDUE_WORKING_DAYS.
- `bank_turnaround(now, days)`: per bank, median and p90 from sent to answered over the batches
  answered in the last `days` days, the share of each outcome of their tickets, and the batches
  waiting now (overdue ones counted apart). Three queries, whatever the number of batches.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from diagnosis.models import BankOutcome, EscalationBatch, EscalationItem
from diagnosis.tickets import sla

DAYS = 90


def working_days_between(start, end, zone) -> int:
    _zone, _start, _end, weekdays, holidays = sla.working_hours()
    first = timezone.localtime(start, zone).date()
    last = timezone.localtime(end, zone).date()
    days = 0
    day = first + timedelta(days=1)
    while day <= last and days < 400:
        if sla.is_working_day(day, weekdays, holidays):
            days += 1
        day += timedelta(days=1)
    return days


def is_overdue(batch, now=None) -> bool:
    if batch.status != EscalationBatch.Status.SENT or batch.sent_at is None:
        return False
    now = now or timezone.now()
    waited = working_days_between(batch.sent_at, now, batch.acquirer.zone)
    return waited > settings.ESCALATION_OVERDUE_WORKING_DAYS


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of sorted `values`."""
    if not values:
        return None
    rank = max(1, -(-len(values) * share // 1))  # ceil
    return values[int(rank) - 1]


@dataclass
class BankTurnaround:
    bank: object
    answered: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None
    outcomes: list = field(default_factory=list)  # (label, count, percent)
    waiting: int = 0
    overdue: list = field(default_factory=list)  # batches


CACHE_KEY = "insight:bank-turnaround:v1"


def bank_turnaround_cached() -> list[BankTurnaround]:
    """`bank_turnaround()` kept for INSIGHT_CACHE_SECONDS, like the dashboard's aggregates."""
    found = cache.get(CACHE_KEY)
    if found is None:
        found = bank_turnaround()
        cache.set(CACHE_KEY, found, settings.INSIGHT_CACHE_SECONDS)
    return found


def bank_turnaround(*, now=None, days=DAYS) -> list[BankTurnaround]:
    now = now or timezone.now()
    since = now - timedelta(days=days)
    result = {}

    def entry(bank):
        if bank.pk not in result:
            result[bank.pk] = BankTurnaround(bank=bank)
        return result[bank.pk]

    answered = (
        EscalationBatch.objects.filter(answered_at__gte=since, sent_at__isnull=False)
        .select_related("acquirer")
        .only("sent_at", "answered_at", "acquirer")
    )
    hours = {}
    for batch in answered:
        entry(batch.acquirer)
        spent = (batch.answered_at - batch.sent_at).total_seconds() / 3600
        hours.setdefault(batch.acquirer_id, []).append(max(0.0, spent))
    for bank_id, values in hours.items():
        values.sort()
        item = result[bank_id]
        item.answered = len(values)
        item.median_hours = round(_percentile(values, 0.5), 1)
        item.p90_hours = round(_percentile(values, 0.9), 1)

    shares = (
        EscalationItem.objects.filter(batch__answered_at__gte=since)
        .exclude(outcome="")
        .values("batch__acquirer_id", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {}
    for row in shares:
        counts.setdefault(row["batch__acquirer_id"], {})[row["outcome"]] = row["n"]
    for bank_id, by_outcome in counts.items():
        if bank_id not in result:
            continue
        total = sum(by_outcome.values())
        result[bank_id].outcomes = [
            (label, by_outcome.get(value, 0), round(100 * by_outcome.get(value, 0) / total))
            for value, label in BankOutcome.choices
        ]

    waiting = EscalationBatch.objects.filter(status=EscalationBatch.Status.SENT).select_related(
        "acquirer"
    )
    for batch in waiting.order_by("sent_at"):
        item = entry(batch.acquirer)
        item.waiting += 1
        if is_overdue(batch, now):
            item.overdue.append(batch)
    return sorted(result.values(), key=lambda item: item.bank.code)
