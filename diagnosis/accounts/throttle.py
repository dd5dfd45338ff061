"""Login throttling on django-axes (database handler) with the client address from django-ipware.

Failed log-ins are counted in axes' AccessAttempt table (the database: shared by every process
and worker, and no cache eviction can reset it), per account name (whether or not the account
exists, so the answer never tells which accounts exist) and per client address, within
LOGIN_LOCKOUT_SECONDS. While either count is at its limit (LOGIN_FAILURES_PER_ACCOUNT,
LOGIN_FAILURES_PER_ADDRESS) every attempt is refused with the same message, even with the right
password, and without the password being checked.

Atomic under concurrency: each attempt is *counted before* the password hash is computed (axes'
AxesStandaloneBackend asks `is_allowed` first; the count is an atomic row update), and an attempt
whose own count goes over a limit is refused unchecked. So N parallel guesses can never have more
than the limit evaluated, and the right password inside a burst does not get in. A correct
password clears the account's count (only that account's: logging into your own account does not
wipe the count of the account you were guessing).

The client address (diagnosis.core.http.client_address) is REMOTE_ADDR, or with
TRUSTED_PROXY_COUNT / TRUSTED_PROXIES set, the address the trusted reverse proxies report.
"""

from contextlib import contextmanager

from axes.attempts import get_cool_off_threshold
from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.utils.translation import gettext_lazy as _

from diagnosis.core.cards import scrub_text
from diagnosis.core.http import client_address

LOCKED_MESSAGE = _("登录失败次数过多，请 %(minutes)d 分钟后再试。")


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def account_limit() -> int:
    return _limit("LOGIN_FAILURES_PER_ACCOUNT", 5)


def address_limit() -> int:
    return _limit("LOGIN_FAILURES_PER_ADDRESS", 20)


def lockout_seconds() -> int:
    return _limit("LOGIN_LOCKOUT_SECONDS", 15 * 60)


def cool_off_time(request=None):
    """AXES_COOLOFF_TIME: a callable, so that LOGIN_LOCKOUT_SECONDS is read at run time."""
    from datetime import timedelta

    return timedelta(seconds=lockout_seconds())


def failure_limit(request=None, credentials=None) -> int:
    return account_limit()


def axes_client_ip(request):
    """AXES_CLIENT_IP_CALLABLE."""
    return client_address(request) or None


def axes_username(request, credentials):
    """AXES_USERNAME_CALLABLE: the account name as counted (a card number typed into the
    user-name box is stored masked)."""
    if credentials:
        username = credentials.get("username")
    else:
        username = request.POST.get("username") if request is not None else None
    return scrub_text((username or "").strip())[:150]


@contextmanager
def _scrubbed_request(request):
    """axes stores the query string, the POST data and headers of failed attempts: card numbers
    typed anywhere in the request are masked there too (the model rule masks the rest)."""
    saved_get, saved_post = request.GET, request.POST
    try:
        request.GET = _scrubbed_query(saved_get)
        request.POST = _scrubbed_query(saved_post)
        for name in ("axes_user_agent", "axes_path_info", "axes_http_accept"):
            if isinstance(getattr(request, name, None), str):
                setattr(request, name, scrub_text(getattr(request, name)))
        yield
    finally:
        request.GET, request.POST = saved_get, saved_post


def _scrubbed_query(query):
    clean = query.copy()
    for key, values in query.lists():
        clean.setlist(key, [scrub_text(v) if key != "password" else "" for v in values])
    return clean


class LoginAttemptHandler(AxesDatabaseHandler):
    """axes' database handler, counting every attempt before the password is checked."""

    def _counts(self, request, credentials) -> tuple[int, int]:
        threshold = get_cool_off_threshold(request)
        recent = AccessAttempt.objects.filter(attempt_time__gte=threshold)
        username = get_client_username(request, credentials)
        account = (
            recent.filter(username=username).aggregate(n=Sum("failures_since_start"))["n"] or 0
        )
        address = (
            recent.filter(ip_address=request.axes_ip_address).aggregate(
                n=Sum("failures_since_start")
            )["n"]
            or 0
        )
        return account, address

    def get_failures(self, request, credentials=None) -> int:
        """axes compares this with the account limit: an address over its own limit counts as
        the account limit reached."""
        account, address = self._counts(request, credentials)
        if address >= address_limit():
            return max(account, account_limit())
        return account

    def is_allowed(self, request, credentials=None) -> bool:
        if not super().is_allowed(request, credentials):
            request.dd_login_refused = True
            return False
        # Count this attempt now, before the password hash, as if it failed (a success clears
        # it). The count is an atomic row update; if it went over a limit, refuse unchecked.
        with _scrubbed_request(request):
            AxesDatabaseHandler.user_login_failed(self, None, credentials, request)
        request.dd_attempt_counted = True
        account, address = self._counts(request, credentials)
        if account > account_limit() or address > address_limit():
            request.dd_login_refused = True
            return False
        return True

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        if request is not None and getattr(request, "dd_attempt_counted", False):
            return  # already counted before the password was checked
        if request is None:
            return super().user_login_failed(sender, credentials, request, **kwargs)
        with _scrubbed_request(request):
            return super().user_login_failed(sender, credentials, request, **kwargs)

    def user_logged_in(self, sender, request, user, **kwargs):
        with _scrubbed_request(request):
            return super().user_logged_in(sender, request, user, **kwargs)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """Only the account's own count is cleared by a successful log-in."""
        username = get_client_username(request, credentials)
        count, _detail = AccessAttempt.objects.filter(username=username).delete()
        return count


def login_succeeded(request, username: str) -> None:
    """The password was right: clear the account's count (the second factor may follow)."""
    from axes.handlers.proxy import AxesProxyHandler

    AxesProxyHandler.update_request(request)
    AxesProxyHandler.get_implementation().reset_user_attempts(request, {"username": username})


class LoginThrottleBackend(AxesStandaloneBackend):
    """axes' check before every password check made for a request (the login pages). An
    authenticate() call without a request (the shell, the test client's login()) is not a
    sign-in attempt from outside and is left to the next backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class ThrottledLoginMixin:
    """For AuthenticationForm subclasses (site login and admin login): the same message for a
    refused attempt whether or not the account exists."""

    def clean(self):
        try:
            cleaned = super().clean()
        except ValidationError:
            if getattr(self.request, "dd_login_refused", False):
                raise ValidationError(
                    LOCKED_MESSAGE,
                    code="throttled",
                    params={"minutes": max(1, lockout_seconds() // 60)},
                ) from None
            raise
        login_succeeded(self.request, self.cleaned_data.get("username") or "")
        return cleaned
