import pytest
from django.core import mail

from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_page_renders_in_both_languages(client):
    assert "登录" in client.get("/accounts/login/").content.decode()
    assert "Log in" in client.get("/en/accounts/login/").content.decode()


def test_login_and_logout(client, merchant_user):
    response = client.post(
        "/accounts/login/", {"username": merchant_user.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == merchant_user
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert not client.get("/").context["user"].is_authenticated


def test_wrong_password_shows_a_message_and_keeps_the_username(client, merchant_user):
    response = client.post(
        "/en/accounts/login/", {"username": merchant_user.username, "password": "nope"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "correct username and password" in body
    assert f'value="{merchant_user.username}"' in body


def test_login_redirects_to_next(client, merchant_user):
    response = client.post(
        "/accounts/login/?next=/en/",
        {"username": merchant_user.username, "password": PASSWORD, "next": "/en/"},
    )
    assert response["Location"] == "/en/"


def test_login_refuses_offsite_next(client, merchant_user):
    response = client.post(
        "/accounts/login/",
        {"username": merchant_user.username, "password": PASSWORD, "next": "https://evil.test/"},
    )
    assert "evil.test" not in response["Location"]


def test_password_change_requires_login_and_works(client, merchant_user):
    assert client.get("/accounts/password/change/").status_code == 302
    factories.sign_in(client, merchant_user)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-77",
            "new_password2": "a-new-long-passphrase-77",
        },
    )
    assert response.status_code == 302
    merchant_user.refresh_from_db()
    assert merchant_user.check_password("a-new-long-passphrase-77")


def test_password_reset_sends_mail_for_known_address(client, merchant_user):
    response = client.post("/accounts/password/reset/", {"email": merchant_user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/" in mail.outbox[0].body


def test_password_reset_does_not_reveal_unknown_address(client, merchant_user):
    known = client.post("/accounts/password/reset/", {"email": merchant_user.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mail.outbox) == 1


def test_password_reset_link_sets_a_new_password(client, merchant_user):
    client.post("/accounts/password/reset/", {"email": merchant_user.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/reset/" in line)
    path = link.split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path, follow=True)
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url,
        {"new_password1": "fresh-long-passphrase-91", "new_password2": "fresh-long-passphrase-91"},
    )
    assert response.status_code == 302
    merchant_user.refresh_from_db()
    assert merchant_user.check_password("fresh-long-passphrase-91")
