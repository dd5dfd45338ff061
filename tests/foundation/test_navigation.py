import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def nav_urls(client):
    return [item["url"] for item in client.get("/").context["nav_items"]]


def test_anonymous_sees_public_navigation_only(client):
    urls = nav_urls(client)
    assert "/" in urls
    assert "/admin/" not in urls


def test_merchant_user_does_not_see_admin(client, merchant_user):
    factories.sign_in(client, merchant_user)
    assert "/admin/" not in nav_urls(client)


def test_agent_does_not_see_admin(client, agent):
    factories.sign_in(client, agent)
    assert "/admin/" not in nav_urls(client)


def test_editor_sees_admin(client, editor):
    factories.sign_in(client, editor)
    assert "/admin/" in nav_urls(client)


def test_superuser_sees_admin(client, superuser):
    factories.sign_in(client, superuser)
    assert "/admin/" in nav_urls(client)


def test_current_page_is_marked(client):
    body = client.get("/").content.decode()
    assert 'aria-current="page"' in body
