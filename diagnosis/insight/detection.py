"""Incident detection: many merchants of one acquirer report bank-side failures at once.

Rule: tickets in the `issuer_system` or `network` categories from at least
INCIDENT_MIN_MERCHANTS distinct merchants of one acquirer within INCIDENT_WINDOW_MINUTES (by
`created_at`) open an incident whose `started_at` is the first of those tickets.

- Found once: while an incident of the acquirer is active (open or confirmed), later qualifying
  tickets are linked to it instead of opening another; a partial unique constraint makes a second
  active incident impossible even when two detections race.
- Tickets already linked to any incident (even a dismissed or resolved one) never count again, so
  a dismissed burst is not re-detected by the next run; a *new* burst after it is.
- Wizard runs do not count: a run is anonymous (no merchant, no acquirer), so it cannot add a
  distinct merchant of an acquirer. They are shown on the dashboard instead.

`detect_incidents(since=…, until=…)` scans a period with a sliding window per acquirer (the
management command and tests replaying streams use it); `detect_after_ticket(ticket_pk)` runs the
same scan for the ticket's acquirer over the last window only (two small indexed queries), after
each ticket is committed.
"""

from collections import Counter, deque
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from diagnosis.insight import notices
from diagnosis.models import Incident, Ticket

INCIDENT_CATEGORIES = ("issuer_system", "network")


def _window() -> timedelta:
    return timedelta(minutes=settings.INCIDENT_WINDOW_MINUTES)


def _candidates(*, since, until, acquirer_id=None):
    rows = Ticket.objects.filter(
        category__key__in=INCIDENT_CATEGORIES,
        created_at__gte=since,
        created_at__lte=until,
        incidents__isnull=True,
    )
    if acquirer_id is not None:
        rows = rows.filter(acquirer_id=acquirer_id)
    return rows.order_by("acquirer_id", "created_at", "pk").values_list(
        "pk", "acquirer_id", "merchant_id", "created_at"
    )


def _link(incident, ticket_ids, merchants_added: set, last_at):
    if not ticket_ids:
        return
    incident.tickets.add(*ticket_ids)
    incident.merchant_count = (
        incident.tickets.values("merchant_id").distinct().count()
        if merchants_added
        else incident.merchant_count
    )
    incident.last_ticket_at = max(incident.last_ticket_at, last_at)
    incident.save(update_fields=["merchant_count", "last_ticket_at"])


def _open(acquirer_id, window_rows, now):
    try:
        with transaction.atomic():
            incident = Incident.objects.create(
                acquirer_id=acquirer_id,
                started_at=window_rows[0][3],
                detected_at=now,
                last_ticket_at=window_rows[-1][3],
                merchant_count=len({r[2] for r in window_rows}),
            )
            incident.tickets.add(*[r[0] for r in window_rows])
            notices.enqueue(incident, notices.OPENED)
    except IntegrityError:
        # Another process opened one for this acquirer meanwhile: join it.
        incident = Incident.objects.active().filter(acquirer_id=acquirer_id).first()
        if incident is None:
            return None, False
        _link(incident, [r[0] for r in window_rows], {True}, window_rows[-1][3])
        return incident, False
    return incident, True


def detect_incidents(*, since=None, until=None, acquirer_id=None, now=None) -> list[Incident]:
    """Scan unlinked qualifying tickets created in [since, until]; return incidents *opened*."""
    now = now or timezone.now()
    until = until or now
    since = since or (until - _window())
    window = _window()
    minimum = max(1, settings.INCIDENT_MIN_MERCHANTS)

    by_acquirer: dict[int, list] = {}
    for row in _candidates(since=since, until=until, acquirer_id=acquirer_id):
        by_acquirer.setdefault(row[1], []).append(row)
    if not by_acquirer:
        return []
    active = {
        i.acquirer_id: i
        for i in Incident.objects.active().filter(acquirer_id__in=list(by_acquirer))
    }

    opened = []
    for acq, rows in by_acquirer.items():
        incident = active.get(acq)
        if incident is not None:
            late = [r for r in rows if r[3] >= incident.started_at]
            _link(incident, [r[0] for r in late], {r[2] for r in late}, max(r[3] for r in rows))
            continue
        current: deque = deque()
        merchants: Counter = Counter()
        for index, row in enumerate(rows):
            current.append(row)
            merchants[row[2]] += 1
            while current and current[0][3] < row[3] - window:
                gone = current.popleft()
                merchants[gone[2]] -= 1
                if not merchants[gone[2]]:
                    del merchants[gone[2]]
            if len(merchants) >= minimum:
                incident, created = _open(acq, list(current), now)
                if incident is not None:
                    rest = rows[index + 1 :]
                    if rest:
                        _link(
                            incident,
                            [r[0] for r in rest],
                            {r[2] for r in rest},
                            rest[-1][3],
                        )
                    if created:
                        opened.append(incident)
                break
    if opened:
        from diagnosis.insight import alerts

        transaction.on_commit(alerts.forget, robust=True)
    return opened


def detect_after_ticket(ticket_pk: int) -> list[Incident]:
    """Cheap check after one ticket is committed: only its acquirer, only the last window."""
    row = (
        Ticket.objects.filter(pk=ticket_pk, category__key__in=INCIDENT_CATEGORIES)
        .values_list("acquirer_id", "created_at")
        .first()
    )
    if row is None:
        return []
    acquirer_id, created_at = row
    return detect_incidents(since=created_at - _window(), until=created_at, acquirer_id=acquirer_id)


def resolve_stale_incidents(*, now=None) -> list[Incident]:
    """Active incidents whose tickets stopped arriving INCIDENT_RESOLVE_MINUTES ago are marked
    resolved (the bank recovered); an agent can reopen one. Returns the incidents resolved."""
    from diagnosis.core import audit
    from diagnosis.insight import alerts

    now = now or timezone.now()
    quiet_since = now - timedelta(minutes=settings.INCIDENT_RESOLVE_MINUTES)
    resolved = []
    for incident in Incident.objects.active().filter(last_ticket_at__lt=quiet_since):
        with transaction.atomic():
            incident.status = Incident.Status.RESOLVED
            incident.changed_by = None
            incident.changed_at = now
            incident.ended_at = now
            incident.save(update_fields=["status", "changed_by", "changed_at", "ended_at"])
            audit.record(
                actor=None,
                action="incident.auto_resolved",
                obj=incident,
                quiet_minutes=str(settings.INCIDENT_RESOLVE_MINUTES),
            )
            notices.enqueue(incident, notices.RESOLVED)
        resolved.append(incident)
    if resolved:
        transaction.on_commit(alerts.forget, robust=True)
    return resolved


def catch_up(*, now=None, minutes=None) -> dict:
    """The scheduler's incident job: scan the recent tickets (after downtime or a lost task),
    then resolve incidents that went quiet."""
    now = now or timezone.now()
    minutes = minutes or max(settings.INCIDENT_WINDOW_MINUTES, 60)
    opened = detect_incidents(since=now - timedelta(minutes=minutes), until=now, now=now)
    resolved = resolve_stale_incidents(now=now)
    return {"opened": [i.pk for i in opened], "resolved": [i.pk for i in resolved]}
