"""Agents subscribe to the daily digest on the desk (a real form: works without JavaScript)."""

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


def test_an_agent_subscribes_and_unsubscribes(client, agent, django_assert_max_num_queries):
    factories.sign_in(client, agent)
    page = client.get("/desk/").content.decode()
    assert 'action="/desk/digest/"' in page and "每日摘要邮件：未订阅" in page
    with django_assert_max_num_queries(4):  # the user, their groups, the update (+ session)
        response = client.post("/desk/digest/", {"daily_digest": "on", "next": "/desk/?status=new"})
    assert response.status_code == 302 and response["Location"] == "/desk/?status=new"
    agent.refresh_from_db()
    assert agent.daily_digest is True
    assert "每日摘要邮件：已订阅" in client.get("/desk/").content.decode()
    client.post("/desk/digest/", {"daily_digest": "off"})
    agent.refresh_from_db()
    assert agent.daily_digest is False


def test_merchants_cannot_subscribe(client, merchant_user):
    factories.sign_in(client, merchant_user)
    assert client.post("/desk/digest/", {"daily_digest": "on"}).status_code == 403
    merchant_user.refresh_from_db()
    assert merchant_user.daily_digest is False
