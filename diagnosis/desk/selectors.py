"""Reads for the agents' desk: the ticket queue, one ticket with its history, escalation batches.

Pagination is keyset ("seek") pagination: a page is "the next N rows after this row in the sort
order", found through an index, so page 1 and page 50,000 cost the same and nothing counts the
whole table. The total is a capped count (`COUNT(*)` over at most `COUNT_CAP + 1` rows), shown as
"1,000+" beyond the cap. Every page runs the same, fixed set of queries whatever the data size.
"""

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import F, Q
from django.utils import timezone

from diagnosis.core.roles import SUPPORT_AGENTS
from diagnosis.models import Bank, EscalationItem, Ticket, TicketEvent
from diagnosis.tickets import workflow

PAGE_SIZE = 30  # rows per queue page (Zendesk and Freshdesk views show 30 too)
COUNT_CAP = 1000
CLOSED_STATUSES = tuple(sorted(workflow.DONE_STATUSES))
OPEN_STATUSES = tuple(sorted(workflow.OPEN_STATUSES))


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    nullable: bool = False  # NULLs always sort last in the forward direction


# name -> keys; the last key is always the primary key so the order is total.
SORTS = {
    "newest": (SortKey("created_at", True), SortKey("id", True)),
    "oldest": (SortKey("created_at"), SortKey("id")),
    "transaction": (SortKey("transaction_time", True), SortKey("id", True)),
    "due": (SortKey("first_response_due", nullable=True), SortKey("id")),
    "priority": (SortKey("priority_rank"), SortKey("created_at", True), SortKey("id", True)),
}
DEFAULT_SORT = "newest"


def is_overdue(ticket, now=None) -> bool:
    """No first response yet and the first-response due time has passed (open tickets only)."""
    now = now or timezone.now()
    return (
        ticket.first_responded_at is None
        and ticket.first_response_due is not None
        and ticket.first_response_due < now
        and ticket.status not in CLOSED_STATUSES
    )


# --- keyset pagination ---------------------------------------------------------------------------


def encode_cursor(values) -> str:
    data = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, keys) -> list | None:
    """The cursor's values, or None when the token is not one of ours (then: first page)."""
    if not token or len(token) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(data, list) or len(data) != len(keys):
        return None
    values = []
    for key, value in zip(keys, data, strict=True):
        if value is None:
            if not key.nullable:
                return None
            values.append(None)
        elif key.field in ("id", "priority_rank"):
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            if not 0 <= value < 2**63:  # a forged huge number must not reach the database
                return None
            values.append(value)
        else:
            if not isinstance(value, str):
                return None
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return None
            if timezone.is_naive(moment):
                return None
            values.append(moment)
    return values


def _after(key: SortKey, value, forward: bool) -> Q | None:
    """Rows strictly after `value` on this key (in the forward or backward direction)."""
    name = key.field
    if key.nullable:  # ascending, NULLs last
        if forward:
            if value is None:
                return None  # nothing comes after the NULLs on this key
            return Q(**{f"{name}__gt": value}) | Q(**{f"{name}__isnull": True})
        if value is None:
            return Q(**{f"{name}__isnull": False})
        return Q(**{f"{name}__lt": value})
    descending = key.descending if forward else not key.descending
    return Q(**{f"{name}__lt" if descending else f"{name}__gt": value})


def _equal(key: SortKey, value) -> Q:
    if value is None:
        return Q(**{f"{key.field}__isnull": True})
    return Q(**{key.field: value})


def keyset_filter(keys, values, forward: bool = True) -> Q:
    """Lexicographic "after the cursor row": (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …"""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        step = _after(key, value, forward)
        if step is not None:
            condition |= prefix & step
        prefix &= _equal(key, value)
    return condition


def keyset_order(keys, forward: bool = True) -> list:
    order = []
    for key in keys:
        if key.nullable:
            expr = (
                F(key.field).asc(nulls_last=True)
                if forward
                else F(key.field).desc(nulls_first=True)
            )
        else:
            descending = key.descending if forward else not key.descending
            expr = F(key.field).desc() if descending else F(key.field).asc()
        order.append(expr)
    return order


@dataclass
class KeysetPage:
    rows: list
    has_next: bool
    has_previous: bool
    next_cursor: str = ""
    previous_cursor: str = ""
    count: int = 0
    count_capped: bool = False
    extra: dict = field(default_factory=dict)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    @property
    def has_other_pages(self):
        return self.has_next or self.has_previous


def keyset_page(queryset, keys, *, after="", before="", page_size=PAGE_SIZE, count_cap=COUNT_CAP):
    """One page of `queryset` in the order of `keys`, after (or before) a cursor. Two queries."""
    # Capped count: COUNT(*) over at most count_cap + 1 rows, without the display joins.
    capped = queryset.select_related(None).order_by().values("pk")[: count_cap + 1]
    count = capped.count()
    before_values = decode_cursor(before, keys) if before else None
    after_values = decode_cursor(after, keys) if (after and before_values is None) else None

    if before_values is not None:
        rows = list(
            queryset.filter(keyset_filter(keys, before_values, forward=False)).order_by(
                *keyset_order(keys, forward=False)
            )[: page_size + 1]
        )
        has_previous = len(rows) > page_size
        rows = list(reversed(rows[:page_size]))
        has_next = True
    else:
        qs = queryset
        if after_values is not None:
            qs = qs.filter(keyset_filter(keys, after_values))
        rows = list(qs.order_by(*keyset_order(keys))[: page_size + 1])
        has_next = len(rows) > page_size
        rows = rows[:page_size]
        has_previous = after_values is not None

    def cursor(row):
        return encode_cursor([getattr(row, key.field) for key in keys])

    return KeysetPage(
        rows=rows,
        has_next=has_next and bool(rows),
        has_previous=has_previous and bool(rows),
        next_cursor=cursor(rows[-1]) if rows else "",
        previous_cursor=cursor(rows[0]) if rows else "",
        count=min(count, count_cap),
        count_capped=count > count_cap,
    )


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
        qs = qs.filter(
            first_responded_at__isnull=True,
            first_response_due__lt=now,
        ).exclude(status__in=CLOSED_STATUSES)
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
    "tid",
    "first_response_due",
    "first_responded_at",
    "created_at",
    "transaction_time",
    "priority_rank",
)
QUEUE_ROW_RELATIONS = ("merchant", "acquirer", "assignee", "category")


def ticket_queue(*, user, filters: dict, after="", before="", page_size=PAGE_SIZE, now=None):
    """One page of the agents' queue, keys only (see QUEUE_KEY_FIELDS). Always exactly two
    queries (capped count + keys); `ticket_queue_rows` loads the rows the cache lacks."""
    now = now or timezone.now()
    keys = SORTS.get(filters.get("sort") or DEFAULT_SORT, SORTS[DEFAULT_SORT])
    qs = ticket_queue_queryset(user=user, filters=filters, now=now).only(*QUEUE_KEY_FIELDS)
    page = keyset_page(qs, keys, after=after, before=before, page_size=page_size)
    soon = due_soon_limit(now)
    for ticket in page.rows:
        ticket.is_overdue = is_overdue(ticket, now)
        ticket.due_soon = is_due_soon(ticket, now, soon)
    return page


def ticket_queue_rows(tickets) -> list:
    """The full tickets (with the relations a row shows) for light queue tickets, same order,
    their flags kept. One query."""
    by_pk = Ticket.objects.select_related(*QUEUE_ROW_RELATIONS).in_bulk([t.pk for t in tickets])
    rows = []
    for light in tickets:
        full = by_pk[light.pk]
        for flag in ("is_overdue", "due_soon", "faulty_terminal"):
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
        and ticket.status not in CLOSED_STATUSES
    )


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
