"""The JSON API under /api/v1/ (django-ninja): the pieces every feature's Router shares.

Each feature declares its endpoints in a `Router` in its own folder (knowledge/api.py,
diagnosis/wizard/api.py, diagnosis/tickets/api.py); config/api_urls.py mounts them on the one
`NinjaAPI`, which generates /api/v1/openapi.json from their typed schemas. Here:

- `ApiError` and `json_error`: the one error shape, {"error": {"code", "message", "fields"?}}
  with a 4xx status, for every failure: invalid parameters and bodies (ninja's 422 becomes
  today's 400 `validation_error` naming the fields), malformed or hostile JSON, a body over
  DATA_UPLOAD_MAX_MEMORY_SIZE (413), a missing or wrong token (401), unknown paths (404), other
  methods (405). A database outage stays the JSON 503 of diagnosis/core/middleware.py.
- the language: `?lang=en|zh-hans`, else Accept-Language, else Chinese, for answers and errors.
- `DeclineDeskAPI`: NinjaAPI answering `application/json` (UTF-8, not ASCII-escaped), with URL
  names outside a namespace (`api_search`, `api_tickets`, …) and a staff-only docs page.
"""

import json
import logging
from functools import wraps
from typing import Annotated, Any

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, register_converter, reverse
from django.utils import translation
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.renderers import JSONRenderer
from pydantic import Field

from diagnosis.core.ratelimits import RateLimited, rate_limited_response

logger = logging.getLogger("django.request")


class ResponseCodeConverter:
    """`apicode` in API paths: a response code as typed (up to 16 characters; longer → 404)."""

    regex = "[^/]{1,16}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(ResponseCodeConverter, "apicode")

LANGUAGES = ("zh-hans", "en")
# Documented on every operation (DeclineDeskAPI); `in_request_language` does the work.
LANGUAGE_PARAMETER = {
    "name": "lang",
    "in": "query",
    "required": False,
    "description": "Answer language; without it the Accept-Language header decides "
    "(default Simplified Chinese).",
    "schema": {"type": "string", "enum": list(LANGUAGES)},
}


def one_of(values, **field):
    """A string documented as one of `values` (an enum in the OpenAPI document), not enforced on
    answers: a value editors add later (a new category) must not break the API."""
    return Annotated[str, Field(json_schema_extra={"enum": list(values)}, **field)]


def without_slash_and_with(method, path, *, url_name, **options):
    """Register an operation at `path` and, hidden from the document, at `path/` (both have
    always been accepted). `method`: a Router's `get`, `post`, …"""

    def decorate(view):
        method(path + "/", url_name=f"{url_name}_slash", include_in_schema=False, **options)(view)
        return method(path, url_name=url_name, **options)(view)

    return decorate


# --- errors ---------------------------------------------------------------------------------------


class ErrorDetail(Schema):
    code: str
    message: str
    fields: dict[str, list[str]] | None = None


class Error(Schema):
    """{"error": {"code", "message", "fields"?}}; `fields` names each invalid field."""

    error: ErrorDetail


def errors(*statuses) -> dict:
    """`response=` entries documenting error statuses with the Error schema."""
    return dict.fromkeys(statuses, Error)


class ApiError(Exception):
    """Raised anywhere in an operation (or its auth): answered as the JSON error shape."""

    def __init__(self, code, message, status=400, fields=None, headers=None):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status
        self.fields, self.headers = fields, headers or {}

    def response(self):
        response = json_error(self.code, self.message, self.status, self.fields)
        for name, value in self.headers.items():
            response[name] = value
        return response


def json_error(code: str, message, status: int, fields: dict | None = None) -> JsonResponse:
    """The one error shape of the API: {"error": {"code", "message", "fields"?}} with a 4xx."""
    error = {"code": code, "message": str(message)}
    if fields:
        error["fields"] = {name: [str(m) for m in messages] for name, messages in fields.items()}
    return JsonResponse({"error": error}, status=status, json_dumps_params={"ensure_ascii": False})


def unauthorized() -> ApiError:
    return ApiError(
        "unauthorized",
        _("需要有效的 API 令牌：Authorization: Bearer <令牌>。"),
        401,
        headers={"WWW-Authenticate": 'Bearer realm="api"'},
    )


def not_found(request, path="", **kwargs):
    """Any URL under /api/v1/ that is no endpoint (the catch-all, and the API's root)."""
    with translation.override(api_language(request)):
        return json_error("not_found", _("没有这个 API 地址。"), 404)


def method_not_allowed(request, allowed) -> JsonResponse:
    with translation.override(api_language(request)):
        response = json_error(
            "method_not_allowed", _("只支持 %(methods)s。") % {"methods": ", ".join(allowed)}, 405
        )
    response["Allow"] = ", ".join(allowed)
    return response


# pydantic's error types → a message in the user's language (never the value: it could hold a
# card number).
MESSAGES = {
    "missing": lambda ctx: _("这个字段是必填的。"),
    "string_type": lambda ctx: _("应该是字符串。"),
    "int_parsing": lambda ctx: _("应该是整数。"),
    "int_type": lambda ctx: _("应该是整数。"),
    "greater_than_equal": lambda ctx: _("不能小于 %(limit)s。") % {"limit": ctx.get("ge")},
    "less_than_equal": lambda ctx: _("不能大于 %(limit)s。") % {"limit": ctx.get("le")},
    "string_too_long": lambda ctx: _("最多 %(limit)s 个字符。") % {"limit": ctx.get("max_length")},
    "literal_error": lambda ctx: _("不是可以选的值。"),
    "enum": lambda ctx: _("不是可以选的值。"),
}


def _field_name(location) -> str:
    """("query", "limit") → "limit"; ("body", "payload", "amount", "str") → "amount"."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        return parts[2] if len(parts) > 2 else ""
    return parts[1] if len(parts) > 1 else parts[0] if parts else ""


def validation_error(request, exc: ValidationError):
    """ninja's 422 → today's 400: {"code": "validation_error", "fields": {name: [messages]}}
    (an operation may name its own code and message, see `invalid_parameters`)."""
    fields: dict[str, list] = {}
    for error in exc.errors:
        name = _field_name(error.get("loc", ()))
        if not name:  # the body as a whole: missing (empty) or not a JSON object
            return ApiError("invalid_json", _("请求内容应该是一个 JSON 对象。")).response()
        if name in fields:  # one message a field (a union type fails once per member)
            continue
        describe = MESSAGES.get(error.get("type", ""), lambda ctx: _("格式不对。"))
        fields[name] = [describe(error.get("ctx") or {})]
    code, message, field_message = getattr(
        request, "api_invalid", ("validation_error", _("请检查这些字段。"), None)
    )
    if field_message is not None:
        fields = {name: [field_message] for name in fields}
    return json_error(code, message, 400, fields)


def invalid_parameters(code, message, field_message=None):
    """View decorator (ninja `decorate_view`): invalid parameters of this operation answer
    with this error code and message (and this message for each field) instead of
    `validation_error`."""

    def decorate(run):
        @wraps(run)
        def wrapped(request, *args, **kwargs):
            request.api_invalid = (code, message, field_message)
            return run(request, *args, **kwargs)

        return wrapped

    return decorate


# --- language -------------------------------------------------------------------------------------


def api_language(request) -> str:
    """`?lang=en|zh-hans`, else the Accept-Language header, else Chinese."""
    requested = request.GET.get("lang", "")
    if requested in LANGUAGES:
        return requested
    return translation.get_language_from_request(request, check_path=False)


def in_request_language(run):
    """Every operation (its auth, validation and answer) runs in the request's language."""

    @wraps(run)
    def wrapped(request, *args, **kwargs):
        with translation.override(api_language(request)):
            response = run(request, *args, **kwargs)
            response["Content-Language"] = translation.get_language()
        return response

    return wrapped


# --- request and response bodies ------------------------------------------------------------------


class JSONBodyParser(Parser):
    """JSON request bodies: malformed, over-nested (100,000 `[`), or holding a lone surrogate
    ("\\ud800", which no database or UTF-8 answer can carry) are a 400 `invalid_json`."""

    def parse_body(self, request):
        try:
            data = json.loads(request.body.decode("utf-8"))
            # Lone surrogates decode from JSON escapes but cannot be encoded as UTF-8.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (UnicodeError, ValueError, RecursionError) as error:
            raise ApiError("invalid_json", _("请求内容不是有效的 JSON。")) from error
        if not isinstance(data, dict):
            raise ApiError("invalid_json", _("请求内容应该是一个 JSON 对象。"))
        return data


class UTF8JSONRenderer(JSONRenderer):
    json_dumps_params = {"ensure_ascii": False}


class StaffDocs(Swagger):
    """Swagger UI from django-ninja's bundled static files (no CDN)."""

    def get_openapi_url(self, api, path_params):
        return reverse("api_openapi")


def answer_json(view):
    """A PathView of ninja, with our JSON 405 (HEAD works wherever GET does)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = sorted({m.strip() for m in response["Allow"].split(",") if m.strip()})
            if request.method == "HEAD" and "GET" in allowed:
                request.method = "GET"
                return view(request, *args, **kwargs)
            if "GET" in allowed:
                allowed = sorted({*allowed, "HEAD"})
            return method_not_allowed(request, allowed)
        return response

    return wrapped


class DeclineDeskAPI(NinjaAPI):
    """NinjaAPI with this project's conventions (see the module docstring)."""

    URL_NAMES = {"api-root": "api_root", "openapi-json": "api_openapi", "openapi-view": "api_docs"}

    def __init__(self, **kwargs):
        kwargs.setdefault("renderer", UTF8JSONRenderer())
        kwargs.setdefault("parser", JSONBodyParser())
        kwargs.setdefault("docs", StaffDocs())
        super().__init__(**kwargs)
        self.add_exception_handler(ApiError, lambda request, exc: exc.response())
        self.add_exception_handler(
            RateLimited, lambda request, exc: rate_limited_response(request, exc.retry_after)
        )
        self.add_exception_handler(ValidationError, validation_error)
        self.add_exception_handler(HttpError, self._http_error)
        self.add_exception_handler(RequestDataTooBig, self._too_large)
        self.add_exception_handler(Http404, lambda request, exc: not_found(request))
        self.add_exception_handler(Exception, self._unexpected)
        self.add_decorator(in_request_language, mode="view")

    def get_content_type(self) -> str:
        return "application/json"

    def get_root_path(self, path_params: dict[str, Any]) -> str:
        return reverse("api_root", kwargs=path_params)

    def get_openapi_schema(self, **kwargs):
        """The generated document, with `lang` on every operation (`in_request_language`)."""
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["parameters"].append(LANGUAGE_PARAMETER)
        return schema

    @property
    def url_patterns(self) -> list:
        """The URL patterns to include without a namespace: JSON 405s, the root a JSON 404,
        the docs page for staff only."""
        patterns = []
        for pattern in self.urls[0]:
            name = self.URL_NAMES.get(pattern.name, pattern.name)
            view = answer_json(pattern.callback)
            if pattern.name == "api-root":
                view = not_found
            elif pattern.name == "openapi-view":
                view = staff_member_required(pattern.callback)
            patterns.append(URLPattern(pattern.pattern, view, pattern.default_args, name))
        return patterns

    @staticmethod
    def _http_error(request, exc):
        if isinstance(exc.__cause__, ApiError):  # raised while parsing the body
            return exc.__cause__.response()
        if isinstance(exc, AuthenticationError):
            return unauthorized().response()
        return json_error("bad_request", _("请求不正确。"), exc.status_code)

    @staticmethod
    def _too_large(request, exc):
        return json_error("too_large", _("请求内容太大。"), 413)

    @staticmethod
    def _unexpected(request, exc):
        if isinstance(exc, OperationalError | InterfaceError):
            raise exc  # the database is down: the middleware answers the JSON 503
        logger.error("API error: %s %s", request.method, request.path, exc_info=exc)
        return json_error("server_error", _("服务器出错了，请稍后再试。"), 500)
