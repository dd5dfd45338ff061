"""Two-factor sign-in (django-otp): TOTP authenticator apps plus one-time recovery codes.

Who: required for staff — support agents, knowledge editors, admins (is_staff / superusers),
the Django admin included; optional for merchant users, who can turn it on under "账户安全".

How a sign-in goes:
1. The password form (throttled, diagnosis/accounts/throttle.py) succeeds. A user who needs a
   second factor is *not* logged in yet: the session only remembers who passed the password
   (`start_pending`, valid TWO_FACTOR_PENDING_SECONDS).
2. With a device: the code page (`verify`) takes a 6-digit code from the app or a recovery
   code; django-otp throttles wrong codes per device (each failure doubles the wait).
   Staff without a device set one up first (`setup`): a QR code (inline SVG made on the server)
   and the secret as text, confirmed with a first code; ten recovery codes are shown once.
3. Then the user is logged in and the device is recorded in the session (django_otp.login).

`TwoFactorRequiredMiddleware` is the safety net for every other way a session can be signed in
(the admin's own login URL redirects to ours; old sessions; the test client's force_login): a
user who needs a second factor and whose session has not passed one reaches nothing but the
two-factor pages and log-out. `python manage.py reset_two_factor USERNAME` removes a lost device.
"""

import base64
import time
from binascii import unhexlify
from urllib.parse import quote

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from diagnosis.core import permissions

PENDING_USER = "dd_2fa_user"
PENDING_BACKEND = "dd_2fa_backend"
PENDING_SINCE = "dd_2fa_since"
PENDING_NEXT = "dd_2fa_next"
FRESH_CODES = "dd_2fa_recovery_codes"
NO_DEVICE = "dd_2fa_none"
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery"
RECOVERY_CODES = 10


# --- who needs what --------------------------------------------------------------------------


def is_required(user) -> bool:
    """Staff must use a second factor: admins, agents, knowledge editors."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.merchant_id is None and (permissions.is_agent(user) or permissions.is_editor(user))


def confirmed_totp(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def has_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_second_factor(user) -> bool:
    return is_required(user) or has_device(user)


def is_verified(request) -> bool:
    """This session passed a second factor (django_otp.login only records a device of the
    signed-in user; logging in as someone else or out starts a fresh session)."""
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


# --- the pending sign-in -----------------------------------------------------------------------


def safe_next(request, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def start_pending(request, user, next_url: str) -> None:
    """The password was right; the second factor is still to come."""
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_BACKEND] = getattr(
        user, "backend", "django.contrib.auth.backends.ModelBackend"
    )
    request.session[PENDING_SINCE] = int(time.time())
    request.session[PENDING_NEXT] = next_url


def pending_user(request):
    """The user who passed the password step and still owes a second factor, or None."""
    if request.user.is_authenticated:
        return request.user
    pk = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE) or 0
    if pk is None or time.time() - since > settings.TWO_FACTOR_PENDING_SECONDS:
        return None
    return get_user_model().objects.filter(pk=pk, is_active=True).first()


def pending_next(request) -> str:
    return safe_next(request, request.session.get(PENDING_NEXT))


def clear_pending(request) -> None:
    for key in (PENDING_USER, PENDING_BACKEND, PENDING_SINCE, PENDING_NEXT):
        request.session.pop(key, None)


def complete_sign_in(request, user, device) -> None:
    """Both factors passed: log in (unless already) and record the device in the session."""
    if not request.user.is_authenticated or request.user.pk != user.pk:
        backend = request.session.get(PENDING_BACKEND) or settings.AUTHENTICATION_BACKENDS[-1]
        auth_login(request, user, backend=backend)
    clear_pending(request)
    request.user = user
    otp_login(request, device)


# --- devices -----------------------------------------------------------------------------------


def verify_code(user, code: str):
    """The device that accepts `code` (an authenticator code or an unused recovery code), or
    None. Wrong codes are throttled per device by django-otp (the wait doubles each time)."""
    code = "".join((code or "").split()).replace("-", "")
    if not code or len(code) > 16:
        return None
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    devices += list(StaticDevice.objects.filter(user=user, confirmed=True))
    for device in devices:
        with transaction.atomic():
            device = type(device).objects.select_for_update().get(pk=device.pk)
            allowed, _why = device.verify_is_allowed()
            if not allowed:
                continue
            if device.verify_token(code.lower() if isinstance(device, StaticDevice) else code):
                return device
    return None


def throttled(user) -> bool:
    """Every device is waiting after wrong codes."""
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    devices += list(StaticDevice.objects.filter(user=user, confirmed=True))
    return bool(devices) and all(not d.verify_is_allowed()[0] for d in devices)


def new_totp(user) -> TOTPDevice:
    """A fresh, unconfirmed authenticator for `user` (replaces an unconfirmed one)."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def unconfirmed_totp(user):
    return TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()


@transaction.atomic
def confirm_totp(device: TOTPDevice) -> list[str]:
    """The first code was right: the device counts from now on. Returns new recovery codes."""
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return new_recovery_codes(device.user)


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Ten fresh one-time recovery codes (the old ones stop working)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def recovery_codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def remove_devices(user, *, end_all_sessions: bool = True) -> int:
    """Every second-factor device of `user` (lost phone: the next sign-in sets up a new one).
    Their signed-in sessions end too, unless the user turns it off themselves."""
    count = TOTPDevice.objects.filter(user=user).delete()[0]
    count += StaticDevice.objects.filter(user=user).delete()[0]
    if end_all_sessions:
        end_sessions(user)
    return count


def end_sessions(user, *, keep: str | None = None) -> int:
    """End `user`'s sessions (all of them, or all but the session key `keep`)."""
    from django.contrib.sessions.models import Session
    from django.core.cache import cache

    ended = 0
    for session in Session.objects.exclude(session_key=keep or "").iterator():
        data = session.get_decoded()
        if str(data.get("_auth_user_id")) == str(user.pk) or data.get(PENDING_USER) == user.pk:
            cache.delete(f"django.contrib.sessions.cached_db{session.session_key}")
            session.delete()
            ended += 1
    return ended


def secret_text(device: TOTPDevice) -> str:
    """The device's key as people type it into an authenticator app (base32, groups of 4)."""
    secret = base64.b32encode(unhexlify(device.key)).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(device: TOTPDevice) -> str:
    issuer = getattr(settings, "OTP_TOTP_ISSUER", "DeclineDesk")
    secret = base64.b32encode(unhexlify(device.key)).decode().rstrip("=")
    label = quote(f"{issuer}:{device.user.get_username()}")
    return (
        f"otpauth://totp/{label}?secret={secret}&issuer={quote(issuer)}"
        f"&digits={device.digits}&period={device.step}&algorithm=SHA1"
    )


def qr_svg(device: TOTPDevice, title: str = "") -> str:
    """The provisioning URI as an inline SVG QR code, made on the server (no image request)."""
    svg = segno.make(provisioning_uri(device), error="m").svg_inline(
        scale=5, border=2, dark="#111", light="#fff", title=title or None
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S308 - our own markup


# --- the gate --------------------------------------------------------------------------------

OPEN_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/static/", "/i18n/", "/api/")
OPEN_PATHS = ("/healthz",)


def _unprefixed(path: str) -> str:
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) - 1 :]
    return path


class TwoFactorRequiredMiddleware:
    """A signed-in user who needs a second factor and whose session has not passed one reaches
    only the two-factor pages and log-out; everything else redirects there."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not is_verified(request)
            and not _open_path(request.path_info)
            and request.session.get(NO_DEVICE) != user.pk
        ):
            required = is_required(user)
            device = has_device(user)
            if required or device:
                url = reverse("two_factor_verify" if device else "two_factor_setup")
                if request.method == "GET":
                    url += "?" + f"next={quote(request.get_full_path())}"
                return HttpResponseRedirect(url)
            # A merchant user without a device: remembered for this session (one query per
            # session, not per page). Turning two-factor on ends their other sessions.
            request.session[NO_DEVICE] = user.pk
        return self.get_response(request)


def remember_no_device(sender, request, user, **kwargs):
    """user_logged_in: a user who needs no second factor is remembered in the new session, so
    the gate costs their pages nothing (force_login and every other login included)."""
    if request is not None and hasattr(request, "session") and not needs_second_factor(user):
        request.session[NO_DEVICE] = user.pk


def _open_path(path: str) -> bool:
    path = _unprefixed(path)
    return path.startswith(OPEN_PREFIXES) or path in OPEN_PATHS
