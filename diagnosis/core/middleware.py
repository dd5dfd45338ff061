"""Request-level safety nets.

- CardNumberURLMiddleware: a full card number typed into a URL (search box, query string, a path
  segment) is masked before any view, template, log line or redirect can echo it: the request is
  answered with a redirect to the same URL with the number masked (first 6 + last 4). NUL
  characters are dropped from URLs the same way (PostgreSQL text cannot hold them). No value is
  exempt for looking like "a number" (pagination cursors are written in letters); only a
  15-digit MID in the MID filter is left as it is.
- DebugEchoMiddleware + SafeExceptionReporter: with DEBUG on, Django's technical error pages
  (500, the 400 of a bad Host header, 404) quote the request; card numbers in them are masked
  (also URL-encoded ones) and API tokens hidden.
- DatabaseUnavailableMiddleware: when the database cannot be reached, every page answers a
  bilingual 503 page (JSON for the API) instead of a 500; nothing half-done is kept because
  writes run in transactions. The next request simply tries again: no restart needed.
- server_error (handler500): the same 503 for a database error raised outside a view; any other
  error under /api/ is a JSON 500.
"""

import contextlib
import logging
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse, QueryDict
from django.template.loader import render_to_string
from django.views.debug import ExceptionReporter

from diagnosis.core.cards import scrub_echo, scrub_text

logger = logging.getLogger(__name__)


class CardNumberURLMiddleware:
    """Pages: redirect to the masked URL (so the address bar, history and Referer lose the
    number too). The API (/api/…): the request is masked in place, no redirect to follow."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        masked = self._masked(request)
        if masked is not None:
            path, query = masked
            if not request.path_info.startswith("/api/"):
                return HttpResponseRedirect(
                    f"{quote(path, safe=SAFE)}?{query}" if query else quote(path, safe=SAFE)
                )
            request.path = request.path_info = path
            request.META["PATH_INFO"] = path
            request.META["QUERY_STRING"] = query
            request.GET = QueryDict(query)
        return self.get_response(request)

    @staticmethod
    def _masked(request):
        path = unquote(request.path)
        pairs = parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
        clean_path = _clean(path)
        clean_pairs = [
            (_clean(key), value if key in MID_PARAMS and MID.match(value) else _clean(value))
            for key, value in pairs
        ]
        if clean_path == path and clean_pairs == pairs:
            return None
        return clean_path, urlencode(clean_pairs)


SAFE = "/:@!$&'()*+,;=-._~"
# The desk's MID filter: a MID (15 ASCII digits) there is a MID, never masked in its own field.
MID_PARAMS = {"merchant", "mid"}
MID = re.compile(r"^[0-9]{15}$")


# A UUID (the task results' ids in the admin) is 32 hex digits in groups: about one in a hundred
# holds a Luhn-valid run of 13-19 digits across its dashes, which is an id, not a card number.
UUID = re.compile(
    r"(?<![0-9A-Za-z])([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"(?![0-9A-Za-z])"
)


def _clean(text: str) -> str:
    """Card numbers masked (UUIDs kept whole), NUL characters dropped (no database text column
    can hold one)."""
    parts = UUID.split(text)  # the UUIDs are the odd items (the pattern's one group)
    kept = "".join(part if index % 2 else scrub_text(part) for index, part in enumerate(parts))
    return kept.replace("\x00", "")


DB_ERRORS = (OperationalError, InterfaceError)


def database_unavailable_response(request):
    # Drop the broken connection so that the next request connects afresh (Django's own health
    # checks do this too at the start of a request; this also covers CONN_MAX_AGE=0 and
    # anything that skips those signals). Never inside a transaction block: that is the
    # caller's to roll back.
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            with contextlib.suppress(DB_ERRORS):
                connection.close()
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "error": {
                    "code": "unavailable",
                    "message": "服务暂时不可用，请稍后再试。 / Service temporarily unavailable.",
                }
            },
            status=503,
        )
    else:
        # Rendered without the request: no context processor may touch the database.
        response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        except DB_ERRORS as error:
            logger.warning("Database unavailable (%r): %s %s", error, request.method, request.path)
            return database_unavailable_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DB_ERRORS):
            logger.warning(
                "Database unavailable (%r): %s %s", exception, request.method, request.path
            )
            return database_unavailable_response(request)
        return None


def server_error(request, template_name="500.html"):
    """handler500: a database error raised outside a view (session save, middleware) is a 503;
    any other error under /api/ is a JSON 500 (never the HTML page)."""
    import sys

    from django.views.defaults import server_error as default_server_error

    if isinstance(sys.exc_info()[1], DB_ERRORS):
        return database_unavailable_response(request)
    if request.path.startswith("/api/"):  # the API answers JSON, even for an error outside it
        return JsonResponse(
            {
                "error": {
                    "code": "server_error",
                    "message": "服务器出错了，请稍后再试。 / Server error, please try again later.",
                }
            },
            status=500,
        )
    return default_server_error(request, template_name)


class SafeExceptionReporter(ExceptionReporter):
    """DEFAULT_EXCEPTION_REPORTER: the technical 500 page (DEBUG), the 400 page of a bad Host
    header and error e-mails with card numbers masked and API tokens hidden."""

    def get_traceback_html(self):
        return scrub_echo(str(super().get_traceback_html()))

    def get_traceback_text(self):
        return scrub_echo(str(super().get_traceback_text()))


ECHO_TYPES = ("text/html", "text/plain", "application/json")


class DebugEchoMiddleware:
    """Outermost. With DEBUG on, error pages that quote the request (Django's technical 404 lists
    the path; a 400/500 page the headers) are masked before they leave. Off in production,
    where error pages are our own templates and quote nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code >= 400
            and not getattr(response, "streaming", False)
            and response.get("Content-Type", "").startswith(ECHO_TYPES)
        ):
            charset = response.charset or "utf-8"
            body = response.content.decode(charset, "replace")
            masked = scrub_echo(body)
            if masked != body:
                response.content = masked.encode(charset)
        return response
