"""/api/v1/tickets: POST records a declined transaction, GET lists the token's merchant's tickets.

Authentication is only `Authorization: Bearer <token>` (a merchant user's API token, see
diagnosis/tickets/api_tokens.py), never the session cookie, so no CSRF check is needed. The
schema checks the JSON types; ApiTicketForm (the same rules as the ticket page) checks the
values and masks card numbers on arrival, so no response, error message or log line can repeat
one. Every failure is a JSON 4xx.
"""

from typing import Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from ninja import Query, Router, Schema
from ninja.decorators import decorate_view
from ninja.responses import Status
from ninja.security import HttpBearer
from pydantic import ConfigDict, Field, StrictFloat, StrictInt, StrictStr, field_validator

from config.api import ApiError, errors, one_of
from diagnosis import models
from diagnosis.core import permissions
from diagnosis.tickets import selectors, services
from diagnosis.tickets.api_tokens import api_token_user
from diagnosis.tickets.forms import ApiTicketForm

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
AUTH_NOTE = (
    "Authenticate with a merchant user's API token: `Authorization: Bearer <token>` "
    "(created on /tickets/api-tokens/ or with `python manage.py create_api_token USERNAME`)."
)


class MerchantToken(HttpBearer):
    """A merchant user's API token; a token whose user may not record tickets is a 403."""

    def authenticate(self, request, token):
        user = api_token_user(token.strip())
        if user is not None and not permissions.can_record_tickets(user):
            raise ApiError("forbidden", _("这个令牌不能记录工单。"), 403)
        return user


router = Router(tags=["tickets"], auth=MerchantToken())

DateTime = Field(json_schema_extra={"format": "date-time"})
CardType = one_of(models.Ticket.CardType.values)


class Ticket(Schema):
    number: str = Field(examples=["DD-2026-000123"])
    url: str = Field(json_schema_extra={"format": "uri"})
    status: one_of(models.Ticket.Status.values)
    status_label: str
    terminal_id: str = Field(examples=["12345678"])
    transaction_time: str = DateTime
    amount: str = Field(examples=["128.50"])
    currency: str = Field(examples=["CNY"])
    card_masked: str = Field(
        description="Last 4 digits, or first 6 + last 4 with * between; never more.",
        examples=["622848******1234"],
    )
    card_type: CardType
    response_code: str = Field(examples=["51"])
    rrn: str = Field(examples=["123456789012"])
    trace_number: str = Field(examples=["000123"])
    batch_number: str = Field(examples=["000045"])
    description: str = Field(description="Card numbers in it are masked.")
    created_at: str = DateTime
    updated_at: str = DateTime


class TicketCreated(Ticket):
    possible_duplicates: list[str] = Field(
        description="Numbers of earlier tickets that look like the same transaction."
    )


class TicketPage(Schema):
    results: list[Ticket]
    next: str | None = Field(description="URL of the next (older) page, or null.")
    previous: str | None = Field(description="URL of the previous (newer) page, or null.")


Text = StrictStr | None  # null is the same as leaving the field out


class TicketInput(Schema):
    """A declined transaction. The values are checked like the ticket page's form (errors
    name the fields); `terminal_id`, `transaction_time` and `amount` are required."""

    # Documented as required; left out, the form answers with its own messages.
    model_config = ConfigDict(
        json_schema_extra={"required": ["terminal_id", "transaction_time", "amount"]}
    )

    terminal_id: Text = Field(None, description="TID, 8 letters or digits.")
    transaction_time: Text = Field(
        None,
        description="ISO 8601; without an offset it is Beijing time. Not in the future.",
        json_schema_extra={"format": "date-time", "example": "2026-03-01T14:30:00+08:00"},
    )
    amount: StrictStr | StrictInt | StrictFloat | None = Field(
        None,
        description="Decimal > 0 with at most two decimals: a string (best) or a JSON number.",
        examples=["128.50"],
    )
    currency: Text = Field(None, description="3 letters; default CNY.", examples=["CNY"])
    card_number: Text = Field(
        None,
        description="Last 4, first 6 + last 4, or a full number — a full number is masked on "
        "arrival and never stored or echoed.",
    )
    card_type: Text = Field(None, json_schema_extra={"enum": models.Ticket.CardType.values})
    response_code: Text = Field(None, description="2 letters or digits, e.g. 51.")
    rrn: Text = Field(None, description="12 letters or digits.")
    trace_number: Text = Field(None, description="6 digits.")
    batch_number: Text = Field(None, description="6 digits.")
    description: Text = Field(None, json_schema_extra={"maxLength": 4000})

    def form_data(self) -> dict:
        """The given fields as the form's strings (a JSON number amount by its exact text)."""
        return {name: str(value) for name, value in self if value is not None}


class TicketFilters(Schema):
    status: Literal["open", *models.Ticket.Status.values] | None = None
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    after: str = ""
    before: str = ""

    @field_validator("status", mode="before")
    @classmethod
    def blank_is_none(cls, value):
        return value or None


def ticket_json(request, ticket) -> dict:
    return {
        "number": ticket.number,
        "url": request.build_absolute_uri(ticket.get_absolute_url()),
        "status": ticket.status,
        "status_label": str(ticket.get_status_display()),
        "terminal_id": ticket.tid,
        "transaction_time": timezone.localtime(ticket.transaction_time).isoformat(),
        "amount": f"{ticket.amount:.2f}",
        "currency": ticket.currency,
        "card_masked": ticket.card_masked,
        "card_type": ticket.card_type,
        "response_code": ticket.response_code,
        "rrn": ticket.rrn,
        "trace_number": ticket.trace_number,
        "batch_number": ticket.batch_number,
        "description": ticket.description,
        "created_at": timezone.localtime(ticket.created_at).isoformat(),
        "updated_at": timezone.localtime(ticket.updated_at).isoformat(),
    }


def _invalid(form) -> ApiError:
    fields = {name: list(messages) for name, messages in form.errors.items()}
    return ApiError("validation_error", _("请检查这些字段。"), 400, fields)


@router.post(
    "/tickets",
    url_name="api_tickets",
    response={201: TicketCreated, **errors(400, 401, 403, 413, 429)},
    operation_id="createTicket",
    summary="Record a declined transaction",
    description=AUTH_NOTE,
)
@decorate_view(never_cache)
def ticket_create(request, payload: TicketInput, response: HttpResponse):
    form = ApiTicketForm(payload.form_data())
    if not form.is_valid():
        raise _invalid(form)
    cleaned, user = form.cleaned_data, request.auth
    services.ticket_create_rate_check(
        request, merchant=user.merchant, token=getattr(user, "api_token", None)
    )
    duplicates = services.ticket_find_duplicates(
        merchant=user.merchant,
        tid=cleaned["terminal_id"],
        rrn=cleaned["rrn"],
        card_masked=cleaned["card_number"],
        amount=cleaned["amount"],
        transaction_time=cleaned["transaction_time"],
    )
    try:
        ticket = services.ticket_create(
            merchant=user.merchant,
            user=user,
            tid=cleaned["terminal_id"],
            transaction_time=cleaned["transaction_time"],
            amount=cleaned["amount"],
            currency=cleaned["currency"],
            card_number=cleaned["card_number"],
            card_type=cleaned["card_type"],
            response_code=cleaned["response_code"],
            rrn=cleaned["rrn"],
            trace_number=cleaned["trace_number"],
            batch_number=cleaned["batch_number"],
            description=cleaned["description"],
        )
    except ValidationError as error:
        form.add_service_errors(error)
        raise _invalid(form) from error
    except PermissionDenied as error:
        raise ApiError("forbidden", _("这个令牌不能记录工单。"), 403) from error
    document = ticket_json(request, ticket)
    document["possible_duplicates"] = [duplicate.number for duplicate in duplicates]
    response["Location"] = document["url"]
    return Status(201, document)


def _page_url(request, **params):
    query = {key: value for key, value in params.items() if value}
    return request.build_absolute_uri(reverse("api_tickets")) + (
        f"?{urlencode(query)}" if query else ""
    )


@router.get(
    "/tickets",
    url_name="api_tickets",
    response={200: TicketPage, **errors(400, 401, 403)},
    operation_id="listTickets",
    summary="List the token's merchant's tickets, newest first",
    description=AUTH_NOTE + " Keyset pagination: follow `next` / `previous` (no total count).",
)
@decorate_view(never_cache)
def ticket_list(request, filters: Query[TicketFilters]):
    status = filters.status or ""
    page = selectors.ticket_list_for_user(
        user=request.auth,
        status=status,
        after=filters.after,
        before=filters.before,
        per_page=filters.limit,
    )
    common = {"status": status, "limit": filters.limit if filters.limit != DEFAULT_LIMIT else ""}
    return {
        "results": [ticket_json(request, ticket) for ticket in page.items],
        "next": _page_url(request, **common, after=page.next_cursor) if page.has_next else None,
        "previous": _page_url(request, **common, before=page.previous_cursor)
        if page.has_previous
        else None,
    }
