"""Login throttling (cache-based): after repeated failures per account or per address, refuse.

Failures are counted per account name (hashed; counted whether or not the account exists, so the
answer never reveals which accounts exist) and per client address, in a fixed window. While
either counter is at its limit every attempt is refused with the same message, even with the
right password. A successful login clears the account's counter.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

LOCKED_MESSAGE = _("登录失败次数过多，请 %(minutes)d 分钟后再试。")


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _window() -> int:
    return _limit("LOGIN_LOCKOUT_SECONDS", 15 * 60)


def _keys(username: str, address: str) -> tuple[str, str]:
    account = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return f"login-fail:account:{account}", f"login-fail:address:{address or 'unknown'}"


def client_address(request) -> str:
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return (request.META.get("REMOTE_ADDR") or "") if request is not None else ""


def login_locked(*, username: str, address: str) -> bool:
    account_key, address_key = _keys(username, address)
    counts = cache.get_many([account_key, address_key])
    return counts.get(account_key, 0) >= _limit("LOGIN_FAILURES_PER_ACCOUNT", 5) or counts.get(
        address_key, 0
    ) >= _limit("LOGIN_FAILURES_PER_ADDRESS", 20)


def login_failed(*, username: str, address: str) -> None:
    for key in _keys(username, address):
        if cache.add(key, 1, _window()):
            continue
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, _window())


def login_succeeded(*, username: str) -> None:
    cache.delete(_keys(username, "")[0])


class ThrottledLoginMixin:
    """For AuthenticationForm subclasses (site login and admin login)."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request)
        if login_locked(username=username, address=address):
            raise ValidationError(
                LOCKED_MESSAGE, code="throttled", params={"minutes": max(1, _window() // 60)}
            )
        try:
            cleaned = super().clean()
        except ValidationError:
            login_failed(username=username, address=address)
            raise
        login_succeeded(username=username)
        return cleaned
