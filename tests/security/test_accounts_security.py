"""Accounts: login throttling, no account enumeration, session expiry, CSRF on every form, the
admin for staff only, password validators."""

import re

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client

from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, username, password, *, lang="", address="10.0.0.1"):
    return client.post(
        f"{lang}/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def errors_of(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


# -- throttling -----------------------------------------------------------------------------------


def test_account_locked_after_five_failures_even_with_the_right_password(client, merchant_user):
    for _ in range(5):
        assert login(client, merchant_user.username, "wrong").status_code == 200
    response = login(client, merchant_user.username, PASSWORD)
    assert response.status_code == 200  # refused, not logged in
    assert "登录失败次数过多" in errors_of(response)
    assert not response.wsgi_request.user.is_authenticated
    # From another address too: the account is what is locked.
    response = login(client, merchant_user.username, PASSWORD, address="10.9.9.9")
    assert "登录失败次数过多" in errors_of(response)


def test_lockout_message_in_english(client, merchant_user):
    for _ in range(5):
        login(client, merchant_user.username, "wrong", lang="/en")
    response = login(client, merchant_user.username, PASSWORD, lang="/en")
    assert "Too many failed log-ins" in errors_of(response)


def test_lock_expires_after_the_window(client, merchant_user, settings):
    settings.LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(5):
        login(client, merchant_user.username, "wrong")
    assert "登录失败次数过多" in errors_of(login(client, merchant_user.username, PASSWORD))
    import time

    time.sleep(1.2)
    assert login(client, merchant_user.username, PASSWORD).status_code == 302


def test_success_clears_the_account_counter(client, merchant_user):
    for _ in range(4):
        login(client, merchant_user.username, "wrong")
    assert login(client, merchant_user.username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        login(client, merchant_user.username, "wrong")
    assert login(client, merchant_user.username, PASSWORD).status_code == 302


def test_address_locked_after_twenty_failures_across_accounts(client, merchant_user):
    for n in range(20):
        login(client, f"guess{n}", "wrong", address="10.6.6.6")
    response = login(client, merchant_user.username, PASSWORD, address="10.6.6.6")
    assert "登录失败次数过多" in errors_of(response)
    # Another address is not affected.
    assert login(Client(), merchant_user.username, PASSWORD, address="10.7.7.7").status_code == 302


def test_throttling_does_not_reveal_which_accounts_exist(client, merchant_user):
    """Unknown and known names fail, and lock, with exactly the same answers."""
    answers = {}
    for name in (merchant_user.username, "no-such-user"):
        seen = []
        for _ in range(6):
            response = login(Client(), name, "wrong", address=f"10.1.{len(answers)}.1")
            seen.append((response.status_code, errors_of(response)))
        answers[name] = seen
    assert answers[merchant_user.username] == answers["no-such-user"]
    assert "登录失败次数过多" in answers["no-such-user"][-1][1]


def test_admin_login_is_the_throttled_site_login(client, superuser):
    """The admin has no login form of its own: it sends everyone to the site's (throttled, with
    the second factor), keeping where they wanted to go."""
    response = client.post(
        "/admin/login/",
        {"username": superuser.username, "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR="1.2.3.4",
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert not response.wsgi_request.user.is_authenticated
    for _ in range(5):
        login(client, superuser.username, "x", address="1.2.3.4")
    response = login(client, superuser.username, PASSWORD, address="1.2.3.4")
    assert "登录失败次数过多" in errors_of(response)
    assert client.get("/admin/").status_code == 302  # still not signed in


# -- sessions, passwords, reset ---------------------------------------------------------------


def test_session_expires_after_session_cookie_age(client, merchant_user, settings):
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    assert settings.SESSION_COOKIE_AGE == 12 * 60 * 60
    assert login(client, merchant_user.username, PASSWORD).status_code == 302
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_COOKIE_AGE
    assert cookie["httponly"]
    assert client.get("/tickets/").status_code == 200
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    # Sessions are also cached (cached_db), for exactly their age: time would drop that copy.
    from django.core.cache import cache

    cache.clear()
    response = client.get("/tickets/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_password_validators_refuse_weak_passwords(merchant_user):
    for weak in ("123", "12345678901", "password123", merchant_user.username):
        with pytest.raises(ValidationError):
            validate_password(weak, user=merchant_user)
    validate_password("a-long-unusual-passphrase-42", user=merchant_user)


def test_password_change_applies_the_validators(client, merchant_user):
    factories.sign_in(client, merchant_user)
    response = client.post(
        "/en/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode() or "entirely numeric" in (
        response.content.decode()
    )


def test_password_reset_same_answer_and_timing_path_for_unknown_address(client, merchant_user):
    from django.core import mail

    known = client.post("/accounts/password/reset/", {"email": merchant_user.email})
    unknown = client.post("/accounts/password/reset/", {"email": "ghost@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert len(mail.outbox) == 1
    page_known = client.get(known["Location"]).content.decode()
    assert merchant_user.email not in page_known


# -- CSRF -------------------------------------------------------------------------------------

POST_FORMS = re.compile(r"<form\b[^>]*method=[\"']?post[\"']?[^>]*>(.*?)</form>", re.S | re.I)


def test_every_post_form_carries_a_csrf_token(world):
    """Every page a role can open: each POST form in it has csrfmiddlewaretoken."""
    pages = {
        None: [
            "/",
            "/codes/",
            "/codes/51/",
            f"/articles/{world.article.slug}/",
            "/diagnose/",
            "/accounts/login/",
            "/accounts/password/reset/",
            "/search/?q=余额",
        ],
        world.merchant_a: [
            "/tickets/",
            "/tickets/new/",
            "/tickets/api-tokens/",
            f"/tickets/{world.ticket.number}/",
            "/accounts/password/change/",
        ],
        world.agent: [
            "/desk/",
            f"/desk/tickets/{world.ticket.number}/",
            "/desk/escalations/",
            f"/desk/escalations/{world.batch.number}/",
        ],
        world.editor: ["/admin/", "/admin/knowledge/article/add/"],
    }
    forms = 0
    for user, urls in pages.items():
        client = Client()
        if user:
            factories.sign_in(client, user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            for body in POST_FORMS.findall(response.content.decode()):
                forms += 1
                assert 'name="csrfmiddlewaretoken"' in body, url
    assert forms > 15


def test_post_without_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    factories.sign_in(client, world.merchant_a)
    response = client.post(f"/tickets/{world.ticket.number}/reply/", {"body": "hello"})
    assert response.status_code == 403
    agent = Client(enforce_csrf_checks=True)
    factories.sign_in(agent, world.agent)
    assert (
        agent.post(f"/desk/tickets/{world.ticket.number}/note/", {"body": "x"}).status_code == 403
    )
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post("/accounts/login/", {"username": "a", "password": "b"}).status_code == 403
    # With the token the same request goes through.
    page = client.get(f"/tickets/{world.ticket.number}/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    token = token or client.cookies["csrftoken"].value
    response = client.post(
        f"/tickets/{world.ticket.number}/reply/", {"body": "hello", "csrfmiddlewaretoken": token}
    )
    assert response.status_code in (200, 302)
    assert world.ticket.events.filter(body="hello").exists()


def test_api_ignores_the_session_cookie(world):
    """The API is CSRF-exempt because only bearer tokens authenticate it: a logged-in browser
    session cannot be used to write through it."""
    client = Client(enforce_csrf_checks=True)
    factories.sign_in(client, world.merchant_a)
    response = client.post("/api/v1/tickets", "{}", content_type="application/json")
    assert response.status_code == 401


# -- the admin --------------------------------------------------------------------------------


def test_admin_only_for_staff(world):
    for user in (world.merchant_a, world.agent):
        client = Client()
        factories.sign_in(client, user)
        response = client.get("/admin/")
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    non_staff_superuser_flag = factories.user(is_superuser=True, is_staff=False)
    client = Client()
    factories.sign_in(client, non_staff_superuser_flag)
    assert client.get("/admin/").status_code == 302
