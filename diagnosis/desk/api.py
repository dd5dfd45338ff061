"""/api/v1/desk/…: the agents' API — the queue, one ticket with its timeline, reply or note,
status change, assignment.

Authentication is only `Authorization: Bearer <staff token>` (diagnosis/desk/api_tokens.py,
created on /desk/api-tokens/); a merchant's token is never accepted (401), and a session never
authenticates (no CSRF question). The queue takes the desk's own filters (QueueFilterForm) and
pages like the desk (keyset cursors). Writes go through diagnosis/tickets/services.py, so the
workflow, card-number scrubbing, notifications and the audit trail are the same as on the desk.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import Field, StrictBool, StrictInt, StrictStr

from config.api import ApiError, errors, one_of
from diagnosis import models
from diagnosis.core import permissions
from diagnosis.desk import selectors
from diagnosis.desk.api_tokens import staff_token_user
from diagnosis.desk.forms import QueueFilterForm
from diagnosis.tickets import services, sla_clock

DEFAULT_LIMIT = 30
MAX_LIMIT = 100
AUTH_NOTE = (
    "Agents only: `Authorization: Bearer <staff token>` (created on /desk/api-tokens/). "
    "Merchant tokens are refused."
)


class StaffToken(HttpBearer):
    def authenticate(self, request, token):
        return staff_token_user(token.strip())


router = Router(tags=["desk"], auth=StaffToken())
DateTime = Field(json_schema_extra={"format": "date-time"})


def _iso(value):
    return timezone.localtime(value).isoformat() if value else None


class QueueRow(Schema):
    number: str
    url: str = Field(json_schema_extra={"format": "uri"})
    status: one_of(models.Ticket.Status.values)
    priority: one_of(models.Ticket.Priority.values)
    merchant: str
    merchant_id: str = Field(description="MID, 15 digits.")
    terminal_id: str
    acquirer: str
    response_code: str
    amount: str
    currency: str
    card_masked: str
    created_at: str = DateTime
    updated_at: str = DateTime
    first_response_due: str | None = DateTime
    sla_due_at: str | None = Field(
        None,
        description="Earliest running SLA deadline; null while "
        "the ticket waits on the merchant or the bank, or is done.",
    )
    sla_state: one_of(["", "near", "breached"])
    assignee: str | None


class QueuePage(Schema):
    count: int = Field(description="Capped at 1000 (see count_capped).")
    count_capped: bool
    results: list[QueueRow]
    next: str | None
    previous: str | None


class QueueFilters(Schema):
    """The desk's queue filters (same names and rules as /desk/)."""

    q: str = ""
    status: str = Field("", description="open (default), all, or one status.")
    acquirer: str = Field("", description="Bank id.")
    category: str = Field("", description="Category key.")
    code: str = ""
    merchant: str = Field("", description="MID, 15 digits.")
    tid: str = ""
    assignee: str = Field("", description="me, none or an agent's user id.")
    overdue: bool = False
    sla: str = Field("", description="breached or near.")
    date_from: str = Field("", description="YYYY-MM-DD")
    date_to: str = Field("", description="YYYY-MM-DD")
    sort: str = Field("", description="newest, oldest, transaction, due, priority, sla.")
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    after: str = ""
    before: str = ""


class Event(Schema):
    id: int
    kind: one_of(models.TicketEvent.Kind.values)
    author: str | None
    internal: bool
    body: str = Field(description="Card numbers in it are masked.")
    old_value: str
    new_value: str
    created_at: str = DateTime


class SlaTarget(Schema):
    name: one_of(["first_reply", "next_reply", "resolution"])
    hours: float
    state: one_of(["met", "met_late", "running", "paused", "breached", "stopped"])
    remaining_seconds: int = Field(description="Working seconds left; negative once breached.")
    due_at: str | None = DateTime


class TicketDetail(QueueRow):
    description: str
    rrn: str
    trace_number: str
    transaction_time: str = DateTime
    sla: list[SlaTarget]
    timeline: list[Event]


class ReplyInput(Schema):
    body: StrictStr = Field(json_schema_extra={"maxLength": 4000})
    internal: StrictBool = Field(False, description="An internal note (merchants never see it).")
    last_event_id: StrictInt | None = Field(
        None,
        description="The last event you saw: a public reply by someone else after it answers "
        "409 `replied_meanwhile` unless `confirm` is true.",
    )
    confirm: StrictBool = False


class StatusInput(Schema):
    status: one_of(models.Ticket.Status.values)
    note: StrictStr = Field(
        "", description="Public, optional.", json_schema_extra={"maxLength": 1000}
    )


class AssignmentInput(Schema):
    assignee: StrictStr | None = Field(description="An agent's username; null unassigns.")


def row_json(request, ticket) -> dict:
    return {
        "number": ticket.number,
        "url": request.build_absolute_uri(reverse("diagnosis:desk_ticket", args=[ticket.number])),
        "status": ticket.status,
        "priority": ticket.priority,
        "merchant": ticket.merchant.name,
        "merchant_id": ticket.merchant.mid,
        "terminal_id": ticket.tid,
        "acquirer": ticket.acquirer.name,
        "response_code": ticket.response_code,
        "amount": f"{ticket.amount:.2f}",
        "currency": ticket.currency,
        "card_masked": ticket.card_masked,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "first_response_due": _iso(ticket.first_response_due),
        "sla_due_at": _iso(ticket.sla_due_at),
        "sla_state": getattr(ticket, "sla_state", None) or selectors.sla_state(ticket),
        "assignee": ticket.assignee.get_username() if ticket.assignee_id else None,
    }


def _invalid(form) -> ApiError:
    fields = {name: list(messages) for name, messages in form.errors.items()}
    return ApiError("validation_error", _("请检查这些字段。"), 400, fields)


def _page_url(request, params, **cursor):
    query = {**params, **cursor}
    return request.build_absolute_uri(reverse("api_desk_queue")) + f"?{urlencode(query)}"


@router.get(
    "/desk/tickets",
    url_name="api_desk_queue",
    response={200: QueuePage, **errors(400, 401, 403)},
    operation_id="deskQueue",
    summary="The agents' queue (the desk's filters and sort orders)",
    description=AUTH_NOTE,
)
@decorate_view(never_cache)
def queue(request, filters: Query[QueueFilters]):
    if not permissions.can_use_desk(request.auth):
        raise ApiError("forbidden", _("你没有权限执行这个操作。"), 403)
    raw = {
        k: ("on" if v is True else v)
        for k, v in filters.dict().items()
        if k in QueueFilterForm.base_fields and v not in ("", False)
    }
    data = QueryDict(mutable=True)
    data.update(raw)
    form = QueueFilterForm(data)
    if data and not form.is_valid():
        raise _invalid(form)
    page = selectors.ticket_queue(
        user=request.auth,
        filters=form.filters(),
        after=filters.after,
        before=filters.before,
        per_page=filters.limit,
    )
    rows = selectors.ticket_queue_rows(page.items) if page.items else []
    params = {**raw, **({"limit": filters.limit} if filters.limit != DEFAULT_LIMIT else {})}
    return {
        "count": page.count or 0,
        "count_capped": page.count_capped,
        "results": [row_json(request, t) for t in rows],
        "next": _page_url(request, params, after=page.next_cursor) if page.has_next else None,
        "previous": _page_url(request, params, before=page.previous_cursor)
        if page.has_previous
        else None,
    }


def _ticket(request, number):
    if not permissions.can_use_desk(request.auth):
        raise ApiError("forbidden", _("你没有权限执行这个操作。"), 403)
    ticket = selectors.desk_ticket_detail(number=number[:20])
    if ticket is None or not permissions.can_work_desk_ticket(request.auth, ticket):
        raise ApiError("not_found", _("没有找到这张工单。"), 404)
    return ticket


def detail_json(request, ticket) -> dict:
    events = selectors.desk_ticket_history(ticket=ticket)
    targets = sla_clock.ticket_sla(
        created_at=ticket.created_at,
        priority=ticket.priority,
        facts=sla_clock.facts_from_events(events),
    )
    return {
        **row_json(request, ticket),
        "description": ticket.description,
        "rrn": ticket.rrn,
        "trace_number": ticket.trace_number,
        "transaction_time": _iso(ticket.transaction_time),
        "sla": [
            {
                "name": t.name,
                "hours": t.hours,
                "state": t.state,
                "remaining_seconds": int(t.remaining_seconds),
                "due_at": _iso(t.due_at),
            }
            for t in targets
        ],
        "timeline": [
            {
                "id": e.pk,
                "kind": e.kind,
                "author": e.author.get_username() if e.author_id else None,
                "internal": e.is_internal,
                "body": e.body,
                "old_value": e.old_value,
                "new_value": e.new_value,
                "created_at": _iso(e.created_at),
            }
            for e in events
        ],
    }


@router.get(
    "/desk/tickets/{number}",
    url_name="api_desk_ticket",
    response={200: TicketDetail, **errors(400, 401, 403, 404)},
    operation_id="deskTicket",
    summary="One ticket with its SLA targets and whole timeline (internal notes included)",
    description=AUTH_NOTE,
)
@decorate_view(never_cache)
def ticket(request, number: str):
    return detail_json(request, _ticket(request, number))


def _service_errors(error: ValidationError) -> ApiError:
    fields = (
        {k: [str(m) for m in v] for k, v in error.message_dict.items()}
        if hasattr(error, "error_dict")
        else None
    )
    return ApiError("validation_error", " ".join(error.messages), 400, fields)


@router.post(
    "/desk/tickets/{number}/replies",
    url_name="api_desk_reply",
    response={201: Event, **errors(400, 401, 403, 404, 409, 413)},
    operation_id="deskReply",
    summary="A public reply to the merchant, or an internal note",
    description=AUTH_NOTE,
)
@decorate_view(never_cache)
def reply(request, number: str, payload: ReplyInput):
    ticket = _ticket(request, number)
    if not payload.internal and payload.last_event_id is not None and not payload.confirm:
        newer = selectors.desk_replies_since(
            ticket=ticket, after=payload.last_event_id, exclude_author=request.auth
        )
        if newer:
            raise ApiError(
                "replied_meanwhile",
                _("在你上次查看之后已经有人回复了；确认仍要发送请加上 confirm: true。"),
                409,
            )
    if len(payload.body) > 4000:
        raise ApiError(
            "validation_error", _("请检查这些字段。"), 400, {"body": [_("最多 4000 个字符。")]}
        )
    try:
        event = services.ticket_reply(
            ticket=ticket, author=request.auth, body=payload.body, internal=payload.internal
        )
    except ValidationError as error:
        raise _service_errors(error) from error
    except PermissionDenied as error:
        raise ApiError("forbidden", _("你没有权限执行这个操作。"), 403) from error
    return Status(
        201,
        {
            "id": event.pk,
            "kind": event.kind,
            "author": request.auth.get_username(),
            "internal": event.is_internal,
            "body": event.body,
            "old_value": event.old_value,
            "new_value": event.new_value,
            "created_at": _iso(event.created_at),
        },
    )


@router.post(
    "/desk/tickets/{number}/status",
    url_name="api_desk_status",
    response={200: TicketDetail, **errors(400, 401, 403, 404, 413)},
    operation_id="deskStatus",
    summary="Change the status (the workflow decides which moves are allowed)",
    description=AUTH_NOTE,
)
@decorate_view(never_cache)
def status(request, number: str, payload: StatusInput):
    ticket = _ticket(request, number)
    try:
        services.ticket_change_status(
            ticket=ticket, actor=request.auth, status=payload.status, note=payload.note[:1000]
        )
    except ValidationError as error:
        raise _service_errors(error) from error
    except PermissionDenied as error:
        raise ApiError("forbidden", _("你没有权限执行这个操作。"), 403) from error
    return detail_json(request, _ticket(request, number))


@router.post(
    "/desk/tickets/{number}/assignment",
    url_name="api_desk_assign",
    response={200: TicketDetail, **errors(400, 401, 403, 404, 413)},
    operation_id="deskAssign",
    summary="Assign to an agent (by username), or unassign with null",
    description=AUTH_NOTE,
)
@decorate_view(never_cache)
def assignment(request, number: str, payload: AssignmentInput):
    ticket = _ticket(request, number)
    assignee = None
    if payload.assignee:
        assignee = next(
            (a for a in selectors.desk_agents() if a.get_username() == payload.assignee), None
        )
        if assignee is None:
            raise ApiError(
                "validation_error",
                _("请检查这些字段。"),
                400,
                {"assignee": [_("只能指派给支持专员。")]},
            )
    try:
        services.ticket_assign(ticket=ticket, actor=request.auth, assignee=assignee)
    except ValidationError as error:
        raise _service_errors(error) from error
    except PermissionDenied as error:
        raise ApiError("forbidden", _("你没有权限执行这个操作。"), 403) from error
    return detail_json(request, _ticket(request, number))
