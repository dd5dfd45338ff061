"""Two-factor sign-in (issue 14): required for agents, knowledge editors and admins (the Django
admin included), optional for merchant users; TOTP with one-time recovery codes; a command to
reset a lost device; pages in both languages, without JavaScript, QR as inline SVG."""

import base64
import re
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from diagnosis.models import AuditEvent
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def password_step(client, user, password=PASSWORD, next_url=""):
    return client.post(
        "/accounts/login/" + (f"?next={next_url}" if next_url else ""),
        {"username": user.username, "password": password},
    )


def code_of(device, offset=0) -> str:
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset)
    return f"{code:06d}"


def secret_from(page: str) -> bytes:
    secret = re.search(r'class="otp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def test_staff_set_up_an_authenticator_at_their_first_sign_in(agent):
    client = Client()
    response = password_step(client, agent, next_url="/desk/")
    assert response.status_code == 302 and response["Location"] == "/accounts/two-factor/setup/"
    assert not response.wsgi_request.user.is_authenticated  # not yet: the second factor is due
    assert client.get("/desk/").status_code == 302  # still anonymous

    page = client.get("/accounts/two-factor/setup/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in html and 'role="img"' in html  # the QR code, drawn on the server
    assert "<script" not in html.split("<main")[1].split("</main>")[0]  # works without JS
    assert "http://" not in html.split("<svg")[1].split("</svg>")[0].replace(
        "http://www.w3.org", ""
    )
    device = TOTPDevice.objects.get(user=agent, confirmed=False)
    assert secret_from(html) == device.bin_key
    english = client.get("/en/accounts/two-factor/setup/").content.decode()
    assert "Set up two-step verification" in english

    wrong = client.post("/accounts/two-factor/setup/", {"code": "000000"})
    assert wrong.status_code == 200 and "验证码不正确" in wrong.content.decode()
    time.sleep(1.1)  # django-otp made the device wait after the wrong code
    done = client.post("/accounts/two-factor/setup/", {"code": code_of(device)})
    assert done.status_code == 302 and done["Location"] == "/accounts/two-factor/recovery-codes/"
    codes_page = client.get(done["Location"])
    codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", codes_page.content.decode())
    assert len(codes) == 10
    assert "no-store" in codes_page["Cache-Control"]
    assert 'href="/desk/"' in codes_page.content.decode()  # then on to where they were going
    assert client.get("/desk/").status_code == 200
    assert client.get("/accounts/two-factor/recovery-codes/").status_code == 302  # shown once


def test_staff_then_sign_in_with_a_code_or_a_recovery_code_once(agent):
    device = TOTPDevice.objects.create(user=agent, name="authenticator", confirmed=True)
    from diagnosis.accounts import two_factor

    codes = two_factor.new_recovery_codes(agent)
    client = Client()
    response = password_step(client, agent, next_url="/desk/")
    assert response["Location"] == "/accounts/two-factor/verify/"
    page = client.get("/accounts/two-factor/verify/").content.decode()
    assert agent.username in page and 'autocomplete="one-time-code"' in page
    response = client.post("/accounts/two-factor/verify/", {"code": code_of(device)})
    assert response.status_code == 302 and response["Location"] == "/desk/"
    assert client.get("/desk/").status_code == 200

    other = Client()
    password_step(other, agent)
    assert other.post("/accounts/two-factor/verify/", {"code": codes[0]}).status_code == 302
    assert StaticToken.objects.filter(token=codes[0]).count() == 0  # used up
    again = Client()
    password_step(again, agent)
    refused = again.post("/accounts/two-factor/verify/", {"code": codes[0]})
    assert refused.status_code == 200
    assert again.get("/desk/").status_code == 302


def test_wrong_codes_are_throttled(agent):
    device = TOTPDevice.objects.create(user=agent, name="authenticator", confirmed=True)
    client = Client()
    password_step(client, agent)
    for _ in range(3):
        client.post("/accounts/two-factor/verify/", {"code": "123456"})
    response = client.post("/accounts/two-factor/verify/", {"code": code_of(device)})
    assert response.status_code == 200
    assert "错误次数太多" in response.content.decode()
    assert client.get("/desk/").status_code == 302


def test_a_session_that_skipped_the_second_factor_reaches_nothing(agent, editor, superuser):
    """force_login (or an old session) without the second factor: only the two-factor pages."""
    TOTPDevice.objects.create(user=editor, name="authenticator", confirmed=True)
    for user, urls in (
        (agent, ["/desk/", "/desk/insight/", "/en/desk/"]),
        (editor, ["/admin/", "/admin/knowledge/article/"]),
        (superuser, ["/admin/", "/tickets/"]),
    ):
        client = Client()
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, url
            assert "/accounts/two-factor/" in response["Location"], url
        assert client.get("/accounts/two-factor/setup/").status_code in (200, 302)
        assert client.post("/accounts/logout/").status_code == 302


def test_the_admin_needs_the_second_factor(editor):
    client = Client()
    assert client.get("/admin/login/?next=/admin/")["Location"] == "/accounts/login/?next=/admin/"
    response = password_step(client, editor, next_url="/admin/")
    assert response["Location"] == "/accounts/two-factor/setup/"
    assert client.get("/admin/").status_code == 302
    factories.sign_in(client, editor)
    assert client.get("/admin/").status_code == 200


def test_merchants_may_turn_it_on_and_off(merchant_user):
    client = Client()
    response = password_step(client, merchant_user)
    assert response.status_code == 302 and "two-factor" not in response["Location"]
    assert client.get("/tickets/").status_code == 200
    manage = client.get("/accounts/two-factor/").content.decode()
    assert "未开启" in manage
    client.get("/accounts/two-factor/setup/")
    device = TOTPDevice.objects.get(user=merchant_user, confirmed=False)
    client.post("/accounts/two-factor/setup/", {"code": code_of(device)})
    assert "已开启" in client.get("/accounts/two-factor/").content.decode()

    later = Client()
    response = password_step(later, merchant_user)
    assert response["Location"] == "/accounts/two-factor/verify/"
    assert later.get("/tickets/").status_code == 302

    device.refresh_from_db()
    response = client.post("/accounts/two-factor/disable/", {"code": code_of(device, offset=1)})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=merchant_user).exists()
    again = Client()
    assert "two-factor" not in password_step(again, merchant_user)["Location"]


def test_staff_cannot_turn_it_off(agent):
    client = factories.sign_in(Client(), agent)
    device = TOTPDevice.objects.get(user=agent)
    client.post("/accounts/two-factor/disable/", {"code": code_of(device)})
    assert TOTPDevice.objects.filter(user=agent).exists()


def test_reset_command_removes_a_lost_device_and_ends_sessions(agent):
    client = factories.sign_in(Client(), agent)
    assert client.get("/desk/").status_code == 200
    out = StringIO()
    call_command("reset_two_factor", agent.username, stdout=out)
    assert "Removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=agent).exists()
    assert client.get("/desk/").status_code == 302  # that session ended
    assert AuditEvent.objects.filter(action="account.two_factor_reset").exists()
    fresh = Client()
    assert password_step(fresh, agent)["Location"] == "/accounts/two-factor/setup/"


def test_the_password_step_expires(agent, settings):
    TOTPDevice.objects.create(user=agent, name="authenticator", confirmed=True)
    settings.TWO_FACTOR_PENDING_SECONDS = 0
    client = Client()
    password_step(client, agent)
    time.sleep(0.01)
    response = client.get("/accounts/two-factor/verify/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"


def test_seed_demo_prints_how_staff_pass_the_second_step(settings, client):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out, history=False)
    text = out.getvalue()
    codes = dict(re.findall(r"^\s+(\w+)\s+authenticator secret: ([A-Z2-7 ]+)$", text, re.M))
    assert set(codes) == {"admin", "agent", "editor"}
    recovery = re.findall(r"recovery code \(one use\): ([a-z2-7]+)", text)
    assert len(recovery) == 3
    from diagnosis.models import User

    agent = User.objects.get(username="agent")
    client.post("/accounts/login/", {"username": "agent", "password": "demo-pass-2026"})
    assert client.post("/accounts/two-factor/verify/", {"code": recovery[1]}).status_code == 302
    assert client.get("/desk/").status_code == 200
    device = TOTPDevice.objects.get(user=agent)
    assert codes["agent"].replace(" ", "") == base64.b32encode(device.bin_key).decode().rstrip("=")
