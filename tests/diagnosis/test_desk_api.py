"""The agents' API (/api/v1/desk/…, issue #18): staff tokens only, the desk's filters, the
ticket with its timeline, reply/note, status, assignment — with constant query counts."""

import pytest
from django.test import Client

from diagnosis.desk.api_tokens import staff_token_create, staff_token_revoke
from diagnosis.models import AuditEvent, StaffApiToken, Ticket, TicketEvent
from diagnosis.tickets import services
from diagnosis.tickets.api_tokens import api_token_create
from tests import factories

pytestmark = pytest.mark.django_db
BASE = "/api/v1/desk/tickets"


@pytest.fixture
def raw(agent):
    return staff_token_create(user=agent, name="script")[1]


def api(method, url, token, data=None, **extra):
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}", **extra}
    if method == "post":
        return Client().post(url, data or {}, content_type="application/json", **kwargs)
    return Client().get(url, data or {}, **kwargs)


def test_queue_with_the_desks_filters(raw, merchant_user, django_assert_max_num_queries):
    for _ in range(3):
        factories.ticket(user=merchant_user, response_code="51")
    other = factories.ticket(user=merchant_user, response_code="05")
    with django_assert_max_num_queries(8):
        response = api("get", BASE, raw, {"code": "51"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3 and not body["count_capped"]
    assert other.number not in {row["number"] for row in body["results"]}
    row = body["results"][0]
    assert row["sla_due_at"] and row["sla_state"] == "" and row["assignee"] is None


def test_queue_query_count_does_not_grow(raw, merchant_user, django_assert_max_num_queries):
    for _ in range(12):
        factories.ticket(user=merchant_user)
    with django_assert_max_num_queries(8):
        assert len(api("get", BASE, raw).json()["results"]) == 12


def test_queue_pages_and_validates(raw, merchant_user):
    for _ in range(3):
        factories.ticket(user=merchant_user)
    first = api("get", BASE, raw, {"limit": 2}).json()
    assert len(first["results"]) == 2 and first["next"]
    second = Client().get(first["next"], HTTP_AUTHORIZATION=f"Bearer {raw}").json()
    assert len(second["results"]) == 1
    bad = api("get", BASE, raw, {"tid": "nope", "merchant": "12"})
    assert bad.status_code == 400
    assert set(bad.json()["error"]["fields"]) == {"tid", "merchant"}


def test_ticket_with_timeline_and_sla(raw, agent, ticket, django_assert_max_num_queries):
    services.ticket_reply(
        ticket=ticket, author=agent, body="内部 6222 0212 3456 7890 123", internal=True
    )
    with django_assert_max_num_queries(8):
        response = api("get", f"{BASE}/{ticket.number}", raw)
    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["timeline"]] == ["created", "note"]
    assert body["timeline"][1]["internal"] is True
    assert "6222 0212 3456 7890 123" not in response.content.decode()
    assert {t["name"] for t in body["sla"]} == {"first_reply", "resolution"}
    assert api("get", f"{BASE}/DD-2026-999999", raw).status_code == 404


def test_reply_note_status_assignment(raw, agent, ticket, django_assert_max_num_queries):
    url = f"{BASE}/{ticket.number}"
    with django_assert_max_num_queries(20):
        reply = api("post", f"{url}/replies", raw, {"body": "请重新刷卡"})
    assert reply.status_code == 201 and reply.json()["kind"] == "reply"
    note = api("post", f"{url}/replies", raw, {"body": "check bank", "internal": True})
    assert note.json()["internal"] is True
    with django_assert_max_num_queries(25):
        status = api("post", f"{url}/status", raw, {"status": "waiting_merchant", "note": ""})
    assert status.status_code == 200 and status.json()["status"] == "waiting_merchant"
    assert status.json()["sla_due_at"] is None  # paused
    illegal = api("post", f"{url}/status", raw, {"status": "new"})
    assert illegal.status_code == 400 and "status" in illegal.json()["error"]["fields"]
    with django_assert_max_num_queries(25):
        assigned = api("post", f"{url}/assignment", raw, {"assignee": agent.get_username()})
    assert assigned.json()["assignee"] == agent.get_username()
    nobody = api("post", f"{url}/assignment", raw, {"assignee": "not-an-agent"})
    assert nobody.status_code == 400
    unassigned = api("post", f"{url}/assignment", raw, {"assignee": None})
    assert unassigned.json()["assignee"] is None
    # the same trail as the desk
    assert AuditEvent.objects.filter(actor=agent, action="ticket.reply").exists()


def test_reply_collision_answers_409_until_confirmed(raw, merchant_user, ticket):
    seen = TicketEvent.objects.filter(ticket=ticket).latest("pk").pk
    services.ticket_reply(ticket=ticket, author=merchant_user, body="Any news?")
    url = f"{BASE}/{ticket.number}/replies"
    clash = api("post", url, raw, {"body": "Hello", "last_event_id": seen})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "replied_meanwhile"
    sent = api("post", url, raw, {"body": "Hello", "last_event_id": seen, "confirm": True})
    assert sent.status_code == 201


def test_merchant_tokens_and_sessions_are_refused(client, merchant_user, agent, ticket):
    merchant_raw = api_token_create(user=merchant_user)[1]
    assert api("get", BASE, merchant_raw).status_code == 401
    assert (
        api("post", f"{BASE}/{ticket.number}/replies", merchant_raw, {"body": "x"}).status_code
        == 401
    )
    factories.sign_in(client, agent)
    assert client.get(BASE).status_code == 401  # a session never authenticates


def test_staff_tokens_are_refused_by_the_merchant_api(raw):
    assert api("get", "/api/v1/tickets", raw).status_code == 401


def test_revoked_expired_and_password_change(agent, raw):
    assert api("get", BASE, raw).status_code == 200
    token = StaffApiToken.objects.get(user=agent)
    staff_token_revoke(token=token, actor=agent)
    assert api("get", BASE, raw).status_code == 401
    token2, raw2 = staff_token_create(user=agent)
    StaffApiToken.objects.filter(pk=token2.pk).update(expires_at=token2.created_at)
    assert api("get", BASE, raw2).status_code == 401
    _token3, raw3 = staff_token_create(user=agent)
    agent.set_password("another-pass-2026!")
    agent.save()
    assert api("get", BASE, raw3).status_code == 401
    assert StaffApiToken.objects.filter(user=agent, revoked_reason="password").exists()


def test_a_token_stops_when_its_owner_leaves_the_desk(agent, raw):
    agent.groups.clear()
    assert api("get", BASE, raw).status_code == 401


def test_merchants_cannot_create_staff_tokens(client, merchant_user, agent):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        staff_token_create(user=merchant_user)
    factories.sign_in(client, merchant_user)
    assert client.get("/desk/api-tokens/").status_code == 403


def test_token_page_shows_the_token_once(client, agent, django_assert_max_num_queries):
    factories.sign_in(client, agent)
    created = client.post("/desk/api-tokens/", {"name": "cron"})
    body = created.content.decode()
    assert created.status_code == 200 and "dd_staff_" in body
    token = StaffApiToken.objects.get(user=agent)
    assert bytes(token.token_hash).hex() not in body
    with django_assert_max_num_queries(8):
        again = client.get("/desk/api-tokens/").content.decode()
    assert token.prefix in again and body.count("dd_staff_") > again.count("dd_staff_")
    assert client.post(f"/desk/api-tokens/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert Ticket.objects.count() == 0
