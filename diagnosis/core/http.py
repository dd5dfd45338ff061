"""Small HTTP helpers the feature views share: safe "next" redirects, downloads, error text."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme


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
