"""/api/v1/tickets: POST records a declined transaction, GET lists the token's merchant's tickets.

Authentication is only `Authorization: Bearer <token>` (a merchant user's API token, see
diagnosis/tickets/api_tokens.py), never the session cookie, which is why this view, and only this
one, is CSRF-exempt. Card numbers are masked on arrival (ApiTicketForm binds scrubbed data), so no
response, error message or log line can repeat one. Every failure is a JSON 4xx.
"""

import json

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from config.api import json_error, language_of
from diagnosis.core import permissions
from diagnosis.models import Ticket
from diagnosis.tickets import selectors, services
from diagnosis.tickets.api_tokens import api_token_user
from diagnosis.tickets.forms import ApiTicketForm

API_FIELDS = (
    "terminal_id",
    "transaction_time",
    "amount",
    "currency",
    "card_number",
    "card_type",
    "response_code",
    "rrn",
    "trace_number",
    "batch_number",
    "description",
)
NUMBER_FIELDS = {"amount"}  # also accept a JSON number here (converted exactly via its text)
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


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


def _unauthorized(message):
    response = json_error("unauthorized", message, 401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _authenticate(request):
    header = request.headers.get("Authorization", "")
    scheme, _space, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        return None
    return api_token_user(raw.strip())


def _form_data(payload: dict) -> tuple[dict, dict]:
    """Known fields as strings for the form, plus type errors for values that are not."""
    data, errors = {}, {}
    for name in API_FIELDS:
        value = payload.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            data[name] = value
        elif (
            name in NUMBER_FIELDS and isinstance(value, int | float) and not isinstance(value, bool)
        ):
            data[name] = str(value)
        else:
            errors[name] = [_("应该是字符串。")]
    return data, errors


def _create(request, user):
    try:
        body = request.body
    except RequestDataTooBig:
        return json_error("too_large", _("请求内容太大。"), 413)
    try:
        payload = json.loads(body.decode("utf-8") if body else "")
    except (UnicodeDecodeError, ValueError):
        return json_error("invalid_json", _("请求内容不是有效的 JSON。"), 400)
    if not isinstance(payload, dict):
        return json_error("invalid_json", _("请求内容应该是一个 JSON 对象。"), 400)

    data, type_errors = _form_data(payload)
    form = ApiTicketForm(data)
    valid = form.is_valid()
    if not valid or type_errors:
        fields = {name: list(messages) for name, messages in form.errors.items()}
        for name, messages in type_errors.items():
            fields[name] = messages
        return json_error("validation_error", _("请检查这些字段。"), 400, fields)

    cleaned = form.cleaned_data
    merchant = user.merchant
    services.ticket_create_rate_check(
        request, merchant=merchant, token=getattr(user, "api_token", None)
    )
    duplicates = services.ticket_find_duplicates(
        merchant=merchant,
        tid=cleaned["terminal_id"],
        rrn=cleaned["rrn"],
        card_masked=cleaned["card_number"],
        amount=cleaned["amount"],
        transaction_time=cleaned["transaction_time"],
    )
    try:
        ticket = services.ticket_create(
            merchant=merchant,
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
        fields = {name: list(messages) for name, messages in form.errors.items()}
        return json_error("validation_error", _("请检查这些字段。"), 400, fields)
    except PermissionDenied:
        return json_error("forbidden", _("这个令牌不能记录工单。"), 403)
    document = ticket_json(request, ticket)
    document["possible_duplicates"] = [duplicate.number for duplicate in duplicates]
    response = JsonResponse(document, status=201, json_dumps_params={"ensure_ascii": False})
    response["Location"] = document["url"]
    return response


def _page_url(request, **params):
    query = {key: value for key, value in params.items() if value}
    return request.build_absolute_uri(reverse("api_tickets")) + (
        f"?{urlencode(query)}" if query else ""
    )


def _list(request, user):
    status = request.GET.get("status", "")
    if status and status not in ("open", *Ticket.Status.values):
        return json_error(
            "validation_error",
            _("请检查这些字段。"),
            400,
            {"status": [_("没有这个状态。")]},
        )
    try:
        limit = int(request.GET.get("limit", DEFAULT_LIMIT))
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT:
        return json_error(
            "validation_error",
            _("请检查这些字段。"),
            400,
            {"limit": [_("limit 是 1 到 %(max)s 之间的整数。") % {"max": MAX_LIMIT}]},
        )
    page = selectors.ticket_list_for_user(
        user=user,
        status=status,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        per_page=limit,
    )
    common = {"status": status, "limit": limit if limit != DEFAULT_LIMIT else ""}
    return JsonResponse(
        {
            "results": [ticket_json(request, ticket) for ticket in page.items],
            "next": _page_url(request, **common, after=page.next_cursor) if page.has_next else None,
            "previous": _page_url(request, **common, before=page.previous_cursor)
            if page.previous_cursor
            else None,
        },
        json_dumps_params={"ensure_ascii": False},
    )


@csrf_exempt  # token-authenticated only: no cookie is ever accepted here
@never_cache
def tickets_endpoint(request):
    with language_of(request):
        if request.method not in ("GET", "POST"):
            response = json_error("method_not_allowed", _("只支持 GET 和 POST。"), 405)
            response["Allow"] = "GET, POST"
            return response
        user = _authenticate(request)
        if user is None:
            return _unauthorized(_("需要有效的 API 令牌：Authorization: Bearer <令牌>。"))
        if not permissions.can_record_tickets(user):
            return json_error("forbidden", _("这个令牌不能记录工单。"), 403)
        if request.method == "POST":
            return _create(request, user)
        return _list(request, user)
