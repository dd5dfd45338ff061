"""Small HTTP helpers the feature views share: safe "next" redirects, downloads, error text, the
client's address behind trusted proxies."""

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme
from ipware import get_client_ip


def errors_text(error: ValidationError) -> str:
    """All messages of a ValidationError on one line."""
    return " ".join(error.messages)


def safe_next(request, fallback: str) -> str:
    """The `next` parameter when it points into this site, else `fallback` (no open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    """A file download that no cache keeps (exports hold merchants' transactions)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store, private"
    return response


def _trusted(address: str, trusted: list[str]) -> bool:
    return any(address == prefix or address.startswith(prefix) for prefix in trusted)


def client_address(request) -> str:
    """The client's address. REMOTE_ADDR, unless the request came through reverse proxies we
    trust (X-Forwarded-For is written by the client otherwise):

    - TRUSTED_PROXY_COUNT = N: N proxies each append the address they saw; the client is the
      N-th address from the right (django-ipware);
    - TRUSTED_PROXIES = addresses or prefixes of our proxies: when REMOTE_ADDR is one of them,
      the client is the right-most X-Forwarded-For address that is not.
    """
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR") or ""
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    trusted = [p.strip() for p in getattr(settings, "TRUSTED_PROXIES", []) or [] if p.strip()]
    if trusted:
        if not _trusted(remote, trusted):
            return remote
        chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for address in reversed([a for a in chain if a]):
            if not _trusted(address, trusted):
                return address if _is_ip(address) else remote
        return remote
    if count:
        try:
            address, _routable = get_client_ip(
                request,
                proxy_order="right-most",
                proxy_count=count,
                request_header_order=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"],
            )
        except ValueError:
            address = None
        return address or remote
    return remote


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
