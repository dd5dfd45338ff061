"""Reads for the agents' desk: the ticket queue, one ticket with its history, escalation batches.

The queue is paged by diagnosis/core/pagination.py (keyset pages, in five sort orders) with a
capped count shown as "1,000+" beyond `COUNT_CAP`: every page runs the same, fixed set of queries
whatever the data size.
"""

from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone

from diagnosis.core.pagination import NEWEST_FIRST, SortKey, keyset_page
from diagnosis.core.roles import SUPPORT_AGENTS
from diagnosis.models import Bank, EscalationItem, Ticket, TicketEvent
from diagnosis.tickets import sla, workflow

PAGE_SIZE = 30  # rows per queue page (Zendesk and Freshdesk views show 30 too)
COUNT_CAP = 1000
OPEN_STATUSES = tuple(sorted(workflow.OPEN_STATUSES))

# name -> keys; the last key is always the primary key so the order is total.
SORTS = {
    "newest": NEWEST_FIRST,
    "oldest": (SortKey("created_at"), SortKey("id", integer=True)),
    "transaction": (SortKey("transaction_time", True), SortKey("id", True, integer=True)),
    "due": (SortKey("first_response_due", nullable=True), SortKey("id", integer=True)),
    "sla": (SortKey("sla_due_at", nullable=True), SortKey("id", integer=True)),  # due soonest
    "priority": (
        SortKey("priority_rank", integer=True),
        SortKey("created_at", True),
        SortKey("id", True, integer=True),
    ),
}
DEFAULT_SORT = "newest"


# --- the queue -----------------------------------------------------------------------------------


def desk_agents():
    """People a ticket may be assigned to: active agents and superusers."""
    user_model = get_user_model()
    return (
        user_model.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=SUPPORT_AGENTS))
        .distinct()
        .order_by("username")
    )


def desk_acquirers():
    return Bank.objects.filter(is_acquirer=True).order_by("code")


def _local_day_start(day):
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def ticket_queue_queryset(*, user, filters: dict, now=None):
    """Tickets matching the queue filters (already validated by `QueueFilterForm`)."""
    now = now or timezone.now()
    qs = Ticket.objects.all()
    status = filters.get("status") or "open"
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status != "all":
        qs = qs.filter(status=status)
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(Q(number=q.upper()) | Q(rrn=q))
    if filters.get("acquirer"):
        qs = qs.filter(acquirer=filters["acquirer"])
    if filters.get("category"):
        qs = qs.filter(category=filters["category"])
    if filters.get("code"):
        qs = qs.filter(response_code=filters["code"])
    if filters.get("merchant"):
        qs = qs.filter(merchant__mid=filters["merchant"])
    if filters.get("tid"):
        qs = qs.filter(tid=filters["tid"])
    assignee = filters.get("assignee")
    if assignee == "me":
        qs = qs.filter(assignee=user)
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif assignee:
        qs = qs.filter(assignee_id=assignee)
    if filters.get("overdue"):
        qs = qs.filter(sla.overdue_q(now))
    if filters.get("sla") == "breached":
        qs = qs.filter(sla_due_at__lt=now)
    elif filters.get("sla") == "near":
        qs = qs.filter(sla_due_at__gte=now, sla_due_at__lte=due_soon_limit(now))
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=_local_day_start(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=_local_day_start(filters["date_to"] + timedelta(days=1)))
    return qs


# What a queue row's cache key needs (and the sort keys): the page reads only these, without
# joins; the rows that are not in the cache are loaded whole by `ticket_queue_rows`.
QUEUE_KEY_FIELDS = (
    "id",
    "updated_at",
    "status",
    "merchant",  # its id: terminal health is per merchant + TID
    "tid",
    "first_response_due",
    "first_responded_at",
    "created_at",
    "transaction_time",
    "priority_rank",
    "sla_due_at",
)
QUEUE_ROW_RELATIONS = ("merchant", "acquirer", "assignee", "category")


def ticket_queue(
    *, user, filters: dict, after="", before="", per_page=PAGE_SIZE, now=None, changed_since=None
):
    """One page of the agents' queue, keys only (see QUEUE_KEY_FIELDS). Always exactly two
    queries (capped count + keys); `ticket_queue_rows` loads the rows the cache lacks."""
    now = now or timezone.now()
    keys = SORTS.get(filters.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])
    qs = ticket_queue_queryset(user=user, filters=filters, now=now).only(*QUEUE_KEY_FIELDS)
    page = keyset_page(qs, keys, after=after, before=before, per_page=per_page, count_cap=COUNT_CAP)
    soon = due_soon_limit(now)
    for ticket in page.items:
        ticket.is_overdue = sla.is_overdue(ticket, now=now)
        ticket.due_soon = is_due_soon(ticket, now, soon)
        ticket.sla_state = sla_state(ticket, now, soon)
        ticket.changed = bool(changed_since and ticket.updated_at > changed_since)
    return page


def ticket_queue_rows(tickets) -> list:
    """The full tickets (with the relations a row shows) for light queue tickets, same order,
    their flags kept. One query."""
    by_pk = Ticket.objects.select_related(*QUEUE_ROW_RELATIONS).in_bulk([t.pk for t in tickets])
    rows = []
    for light in tickets:
        full = by_pk[light.pk]
        for flag in ("is_overdue", "due_soon", "faulty_terminal", "sla_state", "changed"):
            setattr(full, flag, getattr(light, flag, False))
        rows.append(full)
    return rows


def due_soon_limit(now=None):
    from diagnosis.tickets.jobs import due_soon_limit as limit

    return limit(now)


def is_due_soon(ticket, now=None, limit=None) -> bool:
    """No first reply yet and the deadline is within SLA_WARNING_MINUTES of working time."""
    now = now or timezone.now()
    limit = limit or due_soon_limit(now)
    return (
        ticket.first_responded_at is None
        and ticket.first_response_due is not None
        and now <= ticket.first_response_due <= limit
        and ticket.status not in workflow.DONE_STATUSES
    )


def sla_state(ticket, now=None, limit=None) -> str:
    """ "breached", "near" (within SLA_WARNING_MINUTES of working time) or "" for a queue row."""
    due = ticket.sla_due_at
    if due is None:
        return ""
    now = now or timezone.now()
    if due < now:
        return "breached"
    return "near" if due <= (limit or due_soon_limit(now)) else ""


def desk_tickets_by_numbers(*, numbers):
    """Tickets picked in the queue (bulk actions, escalation), in a stable order."""
    clean = [n for n in dict.fromkeys(numbers) if isinstance(n, str) and 0 < len(n) <= 20]
    return list(
        Ticket.objects.filter(number__in=clean[:500])
        .select_related("merchant", "acquirer", "assignee")
        .order_by("created_at", "pk")
    )


# --- one ticket ----------------------------------------------------------------------------------


def desk_ticket_detail(*, number):
    """A ticket with everything the agent page shows, or None."""
    return (
        Ticket.objects.select_related(
            "merchant",
            "merchant__acquirer",
            "acquirer",
            "terminal",
            "assignee",
            "category",
            "created_by",
        )
        .filter(number=number)
        .first()
    )


def desk_ticket_history(*, ticket):
    """Every event (public and internal) with its author and attachments, oldest first."""
    return list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "pk")
    )


def desk_replies_since(*, ticket, after: int, exclude_author):
    """Public replies written by someone else after event `after` (the collision warning)."""
    return list(
        TicketEvent.objects.filter(
            ticket=ticket, kind=TicketEvent.Kind.REPLY, is_internal=False, pk__gt=after
        )
        .exclude(author=exclude_author)
        .select_related("author")
        .order_by("pk")[:10]
    )


def desk_ticket_articles(*, ticket, limit=5):
    """Published knowledge articles for the ticket's response code."""
    from knowledge.models import Article

    if not ticket.response_code:
        return []
    return list(
        Article.objects.published()
        .filter(codes__code=ticket.response_code)
        .select_related("category")
        .distinct()[:limit]
    )


def desk_ticket_batches(*, ticket):
    return list(
        EscalationItem.objects.filter(ticket=ticket)
        .select_related("batch", "batch__acquirer")
        .order_by("-batch__created_at")
    )
