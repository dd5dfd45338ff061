"""Ticket reads for merchant pages and the ticket API (visibility: diagnosis.core.permissions).

Lists use keyset pagination (diagnosis.core.pagination): constant work per page on a huge table and
no COUNT(*); every list issues a fixed number of queries however many tickets exist.
"""

from django.db.models import Prefetch
from django.http import Http404

from diagnosis.core import permissions
from diagnosis.core.pagination import keyset_page
from diagnosis.models import ApiToken, Attachment, Ticket, TicketEvent

LIST_FIELDS = (
    "id",
    "number",
    "merchant_id",
    "tid",
    "transaction_time",
    "amount",
    "currency",
    "card_masked",
    "card_type",
    "response_code",
    "rrn",
    "trace_number",
    "batch_number",
    "description",
    "status",
    "created_at",
    "updated_at",
)

# What a list row's cache key and the page cursor need: the page reads only these; the rows
# missing from the row cache are loaded with LIST_FIELDS by `ticket_list_rows`.
LIST_KEY_FIELDS = ("id", "created_at", "updated_at")

# What a merchant sees on the timeline: public replies, status changes, creation, escalation.
MERCHANT_EVENT_KINDS = (
    TicketEvent.Kind.CREATED,
    TicketEvent.Kind.REPLY,
    TicketEvent.Kind.STATUS,
    TicketEvent.Kind.ESCALATED,
)


def ticket_status_filter_choices():
    return [(value, label) for value, label in Ticket.Status.choices]


def ticket_list_for_user(*, user, status="", after=None, before=None, per_page=20, keys_only=False):
    """The tickets `user` may see, newest first, optionally of one status (one keyset page);
    with `keys_only`, only LIST_KEY_FIELDS (the list page: rows come from the row cache)."""
    queryset = permissions.visible_tickets(user)
    if status:
        if status == "open":
            from diagnosis.tickets import workflow

            queryset = queryset.filter(status__in=sorted(workflow.OPEN_STATUSES))
        elif status in Ticket.Status.values:
            queryset = queryset.filter(status=status)
        else:
            queryset = queryset.none()
    queryset = queryset.only(*(LIST_KEY_FIELDS if keys_only else LIST_FIELDS))
    return keyset_page(queryset, after=after, before=before, per_page=per_page)


def ticket_list_rows(tickets) -> list[Ticket]:
    """The list's fields for light tickets of `ticket_list_for_user`, same order (one query)."""
    by_pk = Ticket.objects.only(*LIST_FIELDS).in_bulk([ticket.pk for ticket in tickets])
    return [by_pk[ticket.pk] for ticket in tickets]


def ticket_get_for_user(*, user, number) -> Ticket:
    """The ticket `number` if `user` may see it, else Http404 (never a 403: numbers don't leak)."""
    # Only the relations the ticket pages show: every extra join costs PostgreSQL planning
    # time on a 28-index table. Numbers are unique, so no ORDER BY either.
    queryset = permissions.visible_tickets(user).select_related(
        "acquirer", "terminal", "created_by"
    )
    ticket = next(iter(queryset.filter(number=str(number)[:20]).order_by()[:1]), None)
    if ticket is None:
        raise Http404("No such ticket")
    return ticket


def ticket_timeline_for_user(*, user, ticket) -> list[TicketEvent]:
    """The ticket's events `user` may see, oldest first, with authors and visible attachments.

    Merchants: creation, public replies, status changes and escalation, never internal notes,
    assignment or priority changes. Agents: everything.
    """
    events = ticket.events.select_related("author")
    if not permissions.can_see_internal_notes(user):
        events = events.filter(is_internal=False, kind__in=MERCHANT_EVENT_KINDS)
    return list(
        events.prefetch_related(
            Prefetch(
                "attachments",
                queryset=Attachment.objects.only(
                    "id", "event_id", "ticket_id", "original_name", "content_type", "size"
                ),
            )
        )
    )


def ticket_attachments_for_user(*, user, ticket) -> list[Attachment]:
    """Attachments of the ticket `user` may open (internal notes' files only for agents)."""
    attachments = ticket.attachments.select_related("event")
    if not permissions.can_see_internal_notes(user):
        attachments = attachments.exclude(event__is_internal=True)
    return list(attachments)


def attachment_get_for_user(*, user, number, pk) -> Attachment:
    """One attachment of ticket `number`, or Http404 unless `user` may see it."""
    attachment = (
        Attachment.objects.select_related("ticket", "event")
        .filter(pk=pk, ticket__number=str(number)[:20])
        .first()
    )
    if attachment is None or not permissions.can_view_attachment(user, attachment):
        raise Http404("No such attachment")
    return attachment


def api_tokens_for_user(*, user):
    """The user's own API tokens (only ever their own: tokens are personal)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at"))


def api_token_get_for_user(*, user, pk) -> ApiToken:
    token = ApiToken.objects.filter(pk=pk, user=user).first()
    if token is None or not permissions.can_manage_api_tokens(user):
        raise Http404("No such token")
    return token
