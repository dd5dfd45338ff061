"""The live desk (issue #18): the queue's polling request (ETag → 304), changed rows, presence on
a ticket page, and the warning before sending a reply when someone else replied meanwhile."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from diagnosis.models import Ticket, TicketEvent
from diagnosis.tickets import services
from tests import factories

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def poll(client, **headers):
    return client.get(reverse("diagnosis:desk"), {"sort": "newest"}, **HTMX, **headers)


def test_unchanged_queue_answers_304_with_at_most_3_queries(
    agent_client, merchant_user, django_assert_max_num_queries
):
    for _ in range(5):
        factories.ticket(user=merchant_user)
    first = poll(agent_client)
    assert first.status_code == 200
    assert b"<html" not in first.content
    etag = first["ETag"]
    assert etag.startswith('W/"')
    assert "no-cache" in first["Cache-Control"]
    for _ in range(20):  # more data changes nothing for the unchanged answer
        factories.ticket(user=merchant_user)
    second = poll(agent_client)
    etag = second["ETag"]
    with django_assert_max_num_queries(3):
        unchanged = poll(agent_client, HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""


def test_a_change_answers_200_and_marks_the_changed_row(agent_client, merchant_user, agent):
    quiet = factories.ticket(user=merchant_user)
    busy = factories.ticket(user=merchant_user)
    Ticket.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    first = poll(agent_client)
    seen = str(int(time.time()) - 60)
    services.ticket_reply(ticket=busy, author=agent, body="On it")
    changed = poll(agent_client, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_X_DESK_SEEN=seen)
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    rows = {
        number: row
        for row in changed.content.decode().split("<tr")[1:]
        for number in (busy.number, quiet.number)
        if f"/{number}/" in row
    }
    assert "row-changed" in rows[busy.number]
    assert "row-changed" not in rows[quiet.number]


def test_the_etag_depends_on_the_filters_and_the_user(client, agent, merchant_user):
    factories.ticket(user=merchant_user)
    factories.sign_in(client, agent)
    newest = poll(client)["ETag"]
    oldest = client.get(reverse("diagnosis:desk"), {"sort": "oldest"}, **HTMX)["ETag"]
    assert newest != oldest
    other = factories.agent()
    factories.sign_in(client, other)
    assert poll(client, HTTP_IF_NONE_MATCH=newest).status_code == 200


def test_full_page_polls_itself_and_has_a_refresh_link(agent_client, merchant_user):
    factories.ticket(user=merchant_user)
    response = agent_client.get(reverse("diagnosis:desk"))
    body = response.content.decode()
    assert 'hx-trigger="every 15s"' in body
    assert "X-Desk-Seen" in body
    assert "ETag" not in response  # only the htmx requests are conditional
    assert ">刷新</a>" in body


def test_presence_shows_other_agents(client, agent, ticket, django_assert_max_num_queries):
    li = factories.agent(username="li", first_name="Li")
    factories.sign_in(client, li)
    url = reverse("diagnosis:desk_ticket_presence", args=[ticket.number])
    with django_assert_max_num_queries(4):
        response = client.post(url, {"state": "replying"}, **HTMX)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert "正在" not in response.content.decode()  # alone on the page

    factories.sign_in(client, agent)
    page = client.get(reverse("diagnosis:desk_ticket", args=[ticket.number])).content.decode()
    assert "Li 正在回复…" in page
    client.post(url, {"state": "viewing"}, **HTMX)
    factories.sign_in(client, li)
    body = client.post(url, {"state": "viewing"}, **HTMX).content.decode()
    assert agent.get_username() in body and "正在查看" in body


def test_presence_without_htmx_goes_back_to_the_ticket(agent_client, ticket):
    url = reverse("diagnosis:desk_ticket_presence", args=[ticket.number])
    response = agent_client.post(url, {"state": "viewing"})
    assert response.status_code == 302


def test_presence_refuses_merchants_and_unknown_tickets(client, merchant_user, agent, ticket):
    factories.sign_in(client, merchant_user)
    url = reverse("diagnosis:desk_ticket_presence", args=[ticket.number])
    assert client.post(url, **HTMX).status_code == 403
    factories.sign_in(client, agent)
    missing = reverse("diagnosis:desk_ticket_presence", args=["DD-2026-999999"])
    assert client.post(missing, **HTMX).status_code == 404


def _last_event(ticket):
    return TicketEvent.objects.filter(ticket=ticket).latest("pk").pk


def test_reply_warns_when_someone_else_replied_meanwhile(
    client, agent, merchant_user, ticket, django_assert_max_num_queries
):
    seen = _last_event(ticket)
    services.ticket_reply(ticket=ticket, author=merchant_user, body="Any news?")
    factories.sign_in(client, agent)
    url = reverse("diagnosis:desk_ticket_reply", args=[ticket.number])
    with django_assert_max_num_queries(25):
        response = client.post(
            url, {"body": "卡号 6222 0212 3456 7890 123 请核对", "last_event": seen}
        )
    assert response.status_code == 409
    body = response.content.decode()
    assert "Any news?" in body  # the new reply is shown
    assert "请核对" in body and "6222 0212 3456 7890 123" not in body  # text kept, card masked
    assert 'name="confirm_send" value="on"' in body
    assert "仍然发送" in body
    assert TicketEvent.objects.filter(ticket=ticket, author=agent).count() == 0

    confirmed = client.post(url, {"body": "请核对", "last_event": seen, "confirm_send": "on"})
    assert confirmed.status_code == 302
    assert TicketEvent.objects.filter(ticket=ticket, author=agent, kind="reply").count() == 1


def test_no_warning_for_own_replies_notes_or_an_old_page(client, agent, ticket):
    seen = _last_event(ticket)
    services.ticket_reply(ticket=ticket, author=agent, body="First")
    other = factories.agent()
    services.ticket_reply(ticket=ticket, author=other, body="note", internal=True)
    factories.sign_in(client, agent)
    url = reverse("diagnosis:desk_ticket_reply", args=[ticket.number])
    assert client.post(url, {"body": "Second", "last_event": seen}).status_code == 302
    assert client.post(url, {"body": "Third"}).status_code == 302  # a form without the field


def test_ticket_page_form_carries_the_last_event(agent_client, ticket):
    page = agent_client.get(reverse("diagnosis:desk_ticket", args=[ticket.number]))
    assert f'name="last_event" value="{_last_event(ticket)}"' in page.content.decode()
