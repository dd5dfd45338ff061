"""Rate limits (django-ratelimit) on a cache shared by every process, with a clear 429.

The counters live in the "ratelimit" cache: Redis when REDIS_URL is set, otherwise a database
table (config.cache_backends.AtomicDatabaseCache, created by a migration), never the in-process
page cache, so limits hold across gunicorn workers and no page view can evict a counter.

`check_rate(request, group=…, key=…, rate=…)` counts one event and raises `RateLimited` when the
limit is passed; `RateLimitMiddleware` answers it with a bilingual 429 page, or JSON
`{"error": {"code": "rate_limited", …}}` under /api/, with Retry-After.

Limits (settings, README): TICKET_CREATE_RATE per merchant and per API token,
PASSWORD_RESET_RATE per address and per account, VOTE_RATE per address.
"""

import hashlib

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage

from diagnosis.core.http import client_address


class RateLimited(Exception):
    def __init__(self, retry_after: int = 60):
        super().__init__("rate limited")
        self.retry_after = max(1, int(retry_after))


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def check_rate(request, *, group: str, key: str, rate: str | None) -> None:
    """Count one event of `group` for `key` (any string; stored hashed) against `rate`
    ("30/m", "5/h"; empty or "0" turns the limit off). Raises RateLimited when over it."""
    if not rate or rate.strip() in ("0", "off"):
        return
    usage = get_usage(
        request,
        group=group,
        key=lambda _group, _request: _hashed(key),
        rate=rate.strip(),
        increment=True,
    )
    if usage is not None and usage["should_limit"]:
        raise RateLimited(usage.get("time_left") or 60)


def address_key(request) -> str:
    return f"ip:{client_address(request) or 'unknown'}"


def rate_setting(name: str, default: str) -> str:
    return str(getattr(settings, name, default) or "")


def rate_limited_response(request, retry_after: int):
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "error": {
                    "code": "rate_limited",
                    "message": _("请求太频繁，请 %(seconds)d 秒后再试。")
                    % {"seconds": retry_after},
                }
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = HttpResponse(
            render_to_string("429.html", {"retry_after": retry_after}, request=request),
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    """Turns RateLimited raised anywhere in a view into the 429 answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RateLimited):
            return rate_limited_response(request, exception.retry_after)
        return None
