"""The two-factor policy (diagnosis/accounts/two_factor.py) pinned whole: who must use a second
factor, which paths stay open before it, how long the password step lasts, which codes are
accepted and where a sign-in may continue. The sign-in journeys are in
tests/security/test_two_factor.py."""

from unittest import mock
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.test import RequestFactory
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from diagnosis.accounts import two_factor
from diagnosis.core.roles import KNOWLEDGE_EDITORS, SUPPORT_AGENTS
from tests import factories

pytestmark = pytest.mark.django_db
rf = RequestFactory()


def request_for(user=None, path="/", method="get", **extra):
    request = getattr(rf, method)(path, **extra)
    request.session = SessionStore()
    request.user = user or AnonymousUser()
    return request


# --- who needs a second factor ----------------------------------------------------------------

ROLES = {
    "superuser": lambda: factories.user(is_superuser=True),
    "staff": lambda: factories.user(is_staff=True),
    "agent": lambda: factories.user(groups=[SUPPORT_AGENTS]),
    "editor": lambda: factories.user(groups=[KNOWLEDGE_EDITORS]),
    "merchant": lambda: factories.merchant_user(),
    "merchant in the agents group": lambda: factories.merchant_user(groups=[SUPPORT_AGENTS]),
    "merchant in the editors group": lambda: factories.merchant_user(groups=[KNOWLEDGE_EDITORS]),
    "merchant marked staff": lambda: factories.merchant_user(is_staff=True),
    "nobody in particular": lambda: factories.user(),
}
REQUIRED = {
    "superuser": True,
    "staff": True,
    "agent": True,
    "editor": True,
    "merchant": False,
    "merchant in the agents group": False,
    "merchant in the editors group": False,
    "merchant marked staff": True,
    "nobody in particular": False,
}


def test_who_must_use_a_second_factor():
    actual = {role: two_factor.is_required(make()) for role, make in ROLES.items()}
    assert actual == REQUIRED
    assert two_factor.is_required(AnonymousUser()) is False


def test_a_device_makes_anyone_need_it_but_only_once_confirmed():
    merchant = factories.merchant_user()
    assert two_factor.needs_second_factor(merchant) is False
    TOTPDevice.objects.create(user=merchant, name="x", confirmed=False)
    assert two_factor.has_device(merchant) is False
    assert two_factor.confirmed_totp(merchant) is None
    assert two_factor.needs_second_factor(merchant) is False
    first = TOTPDevice.objects.create(user=merchant, name="a", confirmed=True)
    TOTPDevice.objects.create(user=merchant, name="b", confirmed=True)
    assert two_factor.has_device(merchant) is True
    assert two_factor.confirmed_totp(merchant) == first
    assert two_factor.needs_second_factor(merchant) is True
    agent = factories.agent()
    assert two_factor.needs_second_factor(agent) is True


def test_a_session_is_verified_only_with_a_device_recorded():
    request = request_for()
    assert two_factor.is_verified(request) is False
    request.session[DEVICE_ID_SESSION_KEY] = ""
    assert two_factor.is_verified(request) is False
    request.session[DEVICE_ID_SESSION_KEY] = "otp_totp.totpdevice/1"
    assert two_factor.is_verified(request) is True


# --- the pending sign-in ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("/tickets/", True),
        ("/en/desk/?q=1", True),
        ("http://testserver/tickets/", True),
        ("https://evil.example/", False),
        ("//evil.example/", False),
        ("", False),
        (None, False),
    ],
)
def test_safe_next(url, kept):
    assert two_factor.safe_next(request_for(), url) == (url if kept else "/")


def test_the_password_step_is_remembered_for_a_while_only(settings):
    settings.TWO_FACTOR_PENDING_SECONDS = 600
    user = factories.agent()
    request = request_for()
    assert two_factor.pending_user(request) is None
    with mock.patch.object(two_factor.time, "time", return_value=1_000_000):
        two_factor.start_pending(request, user, "/desk/")
    assert request.session[two_factor.PENDING_USER] == user.pk
    assert request.session[two_factor.PENDING_SINCE] == 1_000_000
    assert request.session[two_factor.PENDING_NEXT] == "/desk/"
    assert (
        request.session[two_factor.PENDING_BACKEND] == "django.contrib.auth.backends.ModelBackend"
    )
    assert two_factor.pending_next(request) == "/desk/"
    for now, expected in [(1_000_000, user), (1_000_600, user), (1_000_601, None)]:
        with mock.patch.object(two_factor.time, "time", return_value=now):
            assert two_factor.pending_user(request) == expected, now
    user.is_active = False
    user.save()
    with mock.patch.object(two_factor.time, "time", return_value=1_000_000):
        assert two_factor.pending_user(request) is None
    two_factor.clear_pending(request)
    assert not {"dd_2fa_user", "dd_2fa_backend", "dd_2fa_since", "dd_2fa_next"} & set(
        request.session.keys()
    )  # noqa: SIM118


def test_a_signed_in_user_is_their_own_pending_user():
    user = factories.merchant_user()
    assert two_factor.pending_user(request_for(user)) == user


def test_the_backend_that_passed_the_password_is_kept():
    user = factories.agent()
    user.backend = "diagnosis.accounts.throttle.LoginThrottleBackend"
    request = request_for()
    two_factor.start_pending(request, user, "/")
    assert request.session[two_factor.PENDING_BACKEND] == user.backend


# --- codes -------------------------------------------------------------------------------------


def test_recovery_codes_are_accepted_once_however_they_are_typed():
    user = factories.agent()
    codes = two_factor.new_recovery_codes(user)
    assert len(codes) == two_factor.RECOVERY_CODES == 10
    assert two_factor.recovery_codes_left(user) == 10
    typed = codes[0].upper()
    typed = f" {typed[:4]}-{typed[4:]} "
    device = two_factor.verify_code(user, typed)
    assert isinstance(device, StaticDevice)
    assert two_factor.recovery_codes_left(user) == 9
    assert two_factor.verify_code(user, codes[0]) is None  # once only
    fresh = two_factor.new_recovery_codes(user)
    assert two_factor.recovery_codes_left(user) == 10
    assert two_factor.verify_code(user, codes[1]) is None  # the old ones stop working
    StaticDevice.objects.get(user=user).throttle_reset()  # that wrong code made it wait
    assert two_factor.verify_code(user, fresh[1]) is not None


@pytest.mark.parametrize("code", ["", None, "   ", "-", "1" * 17])
def test_empty_or_overlong_codes_are_refused_without_a_lookup(code, django_assert_num_queries):
    user = factories.agent()
    with django_assert_num_queries(0):
        assert two_factor.verify_code(user, code) is None


def test_a_sixteen_character_code_is_still_checked():
    user = factories.agent()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    device.token_set.create(token="abcdefgh12345678")
    assert two_factor.verify_code(user, "ABCD-EFGH-1234-5678") == device


def test_an_unconfirmed_device_accepts_nothing():
    user = factories.merchant_user()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=False)
    device.token_set.create(token="abcd1234")
    assert two_factor.verify_code(user, "abcd1234") is None
    assert two_factor.recovery_codes_left(user) == 0


def test_throttled_only_when_every_device_waits():
    user = factories.agent()
    assert two_factor.throttled(user) is False  # no device: nothing to wait for
    totp = TOTPDevice.objects.create(user=user, name="a", confirmed=True)
    two_factor.new_recovery_codes(user)
    assert two_factor.throttled(user) is False
    totp.throttle_increment()
    assert two_factor.throttled(user) is False  # the recovery codes still work
    StaticDevice.objects.get(user=user).throttle_increment()
    assert two_factor.throttled(user) is True


def test_confirming_an_authenticator_replaces_the_old_one():
    user = factories.agent()
    old = TOTPDevice.objects.create(user=user, name="old", confirmed=True)
    stale = two_factor.new_totp(user)
    new = two_factor.new_totp(user)
    assert not TOTPDevice.objects.filter(pk=stale.pk).exists()
    assert two_factor.unconfirmed_totp(user) == new
    codes = two_factor.confirm_totp(new)
    assert len(codes) == 10
    assert list(TOTPDevice.objects.filter(user=user)) == [new]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()
    assert two_factor.unconfirmed_totp(user) is None


def test_secret_and_provisioning_uri(settings):
    settings.OTP_TOTP_ISSUER = "Decline Desk"
    user = factories.agent(username="agent.li")
    device = TOTPDevice.objects.create(user=user, name="a", key="00" * 20, confirmed=False)
    assert two_factor.secret_text(device) == "AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAAA"
    uri = urlsplit(two_factor.provisioning_uri(device))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/Decline%20Desk%3Aagent.li")
    assert parse_qs(uri.query) == {
        "secret": ["A" * 32],
        "issuer": ["Decline Desk"],
        "digits": ["6"],
        "period": ["30"],
        "algorithm": ["SHA1"],
    }
    svg = two_factor.qr_svg(device, title="QR")
    assert svg.startswith('<svg role="img" ')
    # 5 px per module and a quiet zone of 2 modules round the symbol (phones need it to scan)
    qr = segno.make(two_factor.provisioning_uri(device), error="m")
    width, height = qr.symbol_size(scale=5, border=2)
    assert f'width="{width}" height="{height}"' in svg
    assert "<title>QR</title>" in svg


def test_remove_devices_counts_them_and_ends_sessions_unless_told_not_to():
    user = factories.agent()
    TOTPDevice.objects.create(user=user, name="a", confirmed=True)
    two_factor.new_recovery_codes(user)
    with mock.patch.object(two_factor, "end_sessions") as end:
        assert (
            two_factor.remove_devices(user, end_all_sessions=False) == 12
        )  # 2 devices and 10 codes
    end.assert_not_called()
    TOTPDevice.objects.create(user=user, name="a", confirmed=True)
    with mock.patch.object(two_factor, "end_sessions") as end:
        assert two_factor.remove_devices(user) == 1
    end.assert_called_once_with(user)


def test_end_sessions_ends_the_users_signed_in_and_pending_sessions_only():
    user, other = factories.agent(), factories.agent()
    keys = {}
    for name, data in {
        "signed in": {"_auth_user_id": str(user.pk)},
        "pending": {two_factor.PENDING_USER: user.pk},
        "kept": {"_auth_user_id": str(user.pk)},
        "other": {"_auth_user_id": str(other.pk)},
    }.items():
        session = SessionStore()
        session.update(data)
        session.create()
        keys[name] = session.session_key
    assert two_factor.end_sessions(user, keep=keys["kept"]) == 2
    assert {k for k, v in keys.items() if SessionStore().exists(v)} == {"kept", "other"}
    assert two_factor.end_sessions(user) == 1


# --- the gate ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "open_"),
    [
        ("/accounts/two-factor/verify/", True),
        ("/en/accounts/two-factor/setup/", True),
        ("/zh-hans/accounts/logout/", True),
        ("/static/app.css", True),
        ("/i18n/setlang/", True),
        ("/api/v1/tickets", True),
        ("/healthz", True),
        ("/en/healthz", True),
        ("/healthz/more", False),
        ("/", False),
        ("/en/", False),
        ("/desk/", False),
        ("/en/desk/", False),
        ("/admin/", False),
        ("/accounts/login/", False),
        ("/fr/accounts/logout/", False),  # not one of our languages
    ],
)
def test_which_paths_are_open_before_the_second_factor(path, open_):
    assert two_factor._open_path(path) is open_


def test_unprefixed():
    assert two_factor._unprefixed("/en/desk/") == "/desk/"
    assert two_factor._unprefixed("/zh-hans/desk/") == "/desk/"
    assert two_factor._unprefixed("/desk/en/") == "/desk/en/"
    assert two_factor._unprefixed("/en") == "/en"


def gate(request):
    return two_factor.TwoFactorRequiredMiddleware(lambda r: HttpResponse("page"))(request)


def test_the_gate_sends_staff_without_a_device_to_set_one_up():
    agent = factories.agent()
    answer = gate(request_for(agent, "/desk/?q=a b"))
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/two-factor/setup/?next=/desk/%3Fq%3Da%2520b"
    posted = gate(request_for(agent, "/desk/", method="post"))
    assert posted["Location"] == "/accounts/two-factor/setup/"


def test_the_gate_asks_anyone_with_a_device_for_a_code():
    merchant = factories.merchant_user()
    TOTPDevice.objects.create(user=merchant, name="a", confirmed=True)
    answer = gate(request_for(merchant, "/tickets/"))
    assert answer["Location"] == "/accounts/two-factor/verify/?next=/tickets/"


def test_the_gate_lets_through_verified_open_and_merchant_sessions(django_assert_num_queries):
    agent = factories.agent()
    verified = request_for(agent, "/desk/")
    verified.session[DEVICE_ID_SESSION_KEY] = "otp_totp.totpdevice/1"
    assert gate(verified).content == b"page"
    assert gate(request_for(agent, "/en/accounts/logout/")).content == b"page"
    assert gate(request_for(None, "/desk/")).content == b"page"
    merchant = factories.merchant_user()
    request = request_for(merchant, "/tickets/")
    assert gate(request).content == b"page"
    assert request.session[two_factor.NO_DEVICE] == merchant.pk
    with django_assert_num_queries(0):  # remembered for the session
        assert gate(request).content == b"page"
    request.session[two_factor.NO_DEVICE] = agent.pk  # someone else's note counts for nothing
    TOTPDevice.objects.create(user=merchant, name="a", confirmed=True)
    assert gate(request).status_code == 302


def test_remember_no_device_on_login():
    merchant, agent = factories.merchant_user(), factories.agent()
    request = request_for()
    two_factor.remember_no_device(None, request, merchant)
    assert request.session[two_factor.NO_DEVICE] == merchant.pk
    request = request_for()
    two_factor.remember_no_device(None, request, agent)
    assert two_factor.NO_DEVICE not in request.session
    two_factor.remember_no_device(None, None, merchant)  # logins without a request


def _session_user(request):
    from django.contrib.auth import SESSION_KEY

    return request.session.get(SESSION_KEY)


def test_complete_sign_in_logs_in_the_pending_user_over_anyone_else():
    user = factories.agent(pk=5000)  # ids above 256 are separate int objects from the database
    device = TOTPDevice.objects.create(user=user, name="a", confirmed=True)
    pending = request_for()
    two_factor.start_pending(pending, user, "/desk/")
    two_factor.complete_sign_in(pending, user, device)
    assert str(_session_user(pending)) == "5000"
    assert two_factor.is_verified(pending)
    assert two_factor.PENDING_USER not in pending.session

    someone = factories.merchant_user()
    other = request_for()
    from django.contrib.auth import login

    login(other, someone, backend="django.contrib.auth.backends.ModelBackend")
    two_factor.complete_sign_in(other, user, device)
    assert str(_session_user(other)) == "5000"
    assert other.user == user

    from django.contrib.auth.signals import user_logged_in

    same = request_for()
    login(
        same, type(user).objects.get(pk=5000), backend="django.contrib.auth.backends.ModelBackend"
    )
    logins = []
    user_logged_in.connect(receiver := lambda **kwargs: logins.append(kwargs["user"].pk))
    try:
        two_factor.complete_sign_in(same, type(user).objects.get(pk=5000), device)
    finally:
        user_logged_in.disconnect(receiver)
    assert logins == []  # already signed in as this user: no second login
    assert two_factor.is_verified(same)
