"""POST/GET /api/v1/tickets: bearer tokens, masking on arrival, JSON errors naming fields."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnosis.models import Ticket
from diagnosis.tickets.api_tokens import api_token_create, api_token_revoke
from tests import factories

URL = "/api/v1/tickets"
FULL_CARD = "6228480402564890018"


@pytest.fixture
def token(merchant_user):
    return api_token_create(user=merchant_user)[1]


def payload(**overrides):
    body = {
        "terminal_id": "ABCD1234",
        "transaction_time": (timezone.now() - timedelta(hours=1)).isoformat(),
        "amount": "128.50",
        "currency": "CNY",
        "card_number": "6228 4804 0256 4890 018",
        "response_code": "51",
        "rrn": "123456789012",
        "trace_number": "000123",
        "description": f"POS 拒绝，卡号 {FULL_CARD}",
    }
    body.update(overrides)
    return body


def post(client, token, body, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        URL, data, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}", **extra
    )


@pytest.mark.django_db
def test_create_returns_201_with_masked_ticket(client, token, merchant_user):
    response = post(client, token, payload())
    assert response.status_code == 201
    data = response.json()
    ticket = Ticket.objects.get()
    assert data["number"] == ticket.number
    assert data["url"] == f"http://testserver/tickets/{ticket.number}/"
    assert response["Location"] == data["url"]
    assert data["card_masked"] == "622848*********0018"
    assert data["amount"] == "128.50" and data["currency"] == "CNY"
    assert data["terminal_id"] == "ABCD1234" and data["status"] == "new"
    assert data["possible_duplicates"] == []
    assert FULL_CARD not in response.content.decode()
    assert ticket.merchant == merchant_user.merchant and ticket.created_by == merchant_user


@pytest.mark.django_db
def test_currency_defaults_to_cny_and_naive_time_is_beijing(client, token):
    body = payload(transaction_time="2026-01-05T10:00:00")
    del body["currency"]
    data = post(client, token, body).json()
    assert data["currency"] == "CNY"
    assert data["transaction_time"] == "2026-01-05T10:00:00+08:00"


@pytest.mark.django_db
def test_duplicates_reported(client, token):
    first = post(client, token, payload()).json()
    second = post(client, token, payload()).json()
    assert second["possible_duplicates"] == [first["number"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"terminal_id": ""}, {"terminal_id"}),
        ({"amount": "0"}, {"amount"}),
        ({"amount": "12.345"}, {"amount"}),
        ({"amount": "lots"}, {"amount"}),
        ({"amount": True}, {"amount"}),
        ({"transaction_time": "yesterday"}, {"transaction_time"}),
        ({"transaction_time": "2099-01-01T00:00:00+08:00"}, {"transaction_time"}),
        ({"card_number": "12345"}, {"card_number"}),
        ({"card_number": ["1234"]}, {"card_number"}),
        ({"rrn": "1", "trace_number": "x"}, {"rrn", "trace_number"}),
        ({"currency": "yuan"}, {"currency"}),
        ({"card_type": "gold"}, {"card_type"}),
        ({"response_code": 51}, {"response_code"}),
    ],
)
def test_validation_errors_name_the_fields(client, token, overrides, fields):
    response = post(client, token, payload(**overrides))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == fields
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_validation_messages_follow_the_language(client, token):
    zh = post(client, token, payload(amount="0")).json()["error"]["fields"]["amount"]
    en = post(client, token, payload(amount="0"), HTTP_ACCEPT_LANGUAGE="en").json()
    assert zh == ["金额必须大于 0。"]
    assert en["error"]["fields"]["amount"] == ["The amount must be greater than 0."]


@pytest.mark.django_db
def test_missing_required_fields(client, token):
    response = post(client, token, {})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {
        "terminal_id",
        "transaction_time",
        "amount",
    }


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', b"\xff\xfe", ""])
def test_bad_json_is_400(client, token, body):
    response = post(client, token, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.django_db
def test_authentication(client, merchant_user, token):
    assert client.post(URL, "{}", content_type="application/json").status_code == 401
    response = post(client, "dd_wrong", payload())
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert "Bearer" in response["WWW-Authenticate"]
    bad_scheme = client.get(URL, HTTP_AUTHORIZATION=f"Token {token}")
    assert bad_scheme.status_code == 401
    stored = merchant_user.api_tokens.get()
    api_token_revoke(token=stored, actor=merchant_user)
    assert post(client, token, payload()).status_code == 401
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    assert not Ticket.objects.exists()


@pytest.mark.django_db
def test_session_cookie_is_not_enough(client, merchant_user):
    factories.sign_in(client, merchant_user)
    assert client.get(URL).status_code == 401


@pytest.mark.django_db
def test_csrf_not_needed_with_token(token):
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, token, payload()).status_code == 201


@pytest.mark.django_db
def test_other_methods_405(client, token):
    response = client.delete(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 405 and response.json()["error"]["code"]


@pytest.mark.django_db
def test_list_only_the_tokens_merchant(client, token, merchant_user, other_merchant_user):
    mine = factories.ticket(merchant=merchant_user.merchant)
    theirs = factories.ticket(merchant=other_merchant_user.merchant)
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    numbers = [item["number"] for item in response.json()["results"]]
    assert numbers == [mine.number] and theirs.number not in response.content.decode()


@pytest.mark.django_db
def test_list_pagination_and_filters(client, token, merchant_user, agent):
    from diagnosis.tickets.services import ticket_change_status

    tickets = [factories.ticket(merchant=merchant_user.merchant) for _ in range(5)]
    ticket_change_status(ticket=tickets[0], actor=agent, status="resolved")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    page1 = client.get(URL + "?limit=2", **auth).json()
    assert [t["number"] for t in page1["results"]] == [t.number for t in tickets[::-1][:2]]
    assert page1["previous"] is None and page1["next"]
    page2 = client.get(page1["next"].replace("http://testserver", ""), **auth).json()
    assert [t["number"] for t in page2["results"]] == [t.number for t in tickets[::-1][2:4]]
    resolved = client.get(URL + "?status=resolved", **auth).json()["results"]
    assert [t["number"] for t in resolved] == [tickets[0].number]
    bad = client.get(URL + "?status=nope", **auth)
    assert bad.status_code == 400 and "status" in bad.json()["error"]["fields"]
    assert client.get(URL + "?limit=0", **auth).status_code == 400
    assert client.get(URL + "?limit=x", **auth).status_code == 400


@pytest.mark.django_db
def test_list_query_count_constant(client, token, merchant_user, django_assert_max_num_queries):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    factories.ticket(merchant=merchant_user.merchant)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(URL, **auth)  # warm up (token last_used_at write happens at most every 5 minutes)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, **auth)
    for _ in range(25):
        factories.ticket(merchant=merchant_user.merchant)
    with django_assert_max_num_queries(len(queries)):
        client.get(URL, **auth)


@pytest.mark.django_db
def test_openapi_describes_tickets(client):
    document = client.get("/api/v1/openapi.json").json()
    assert {"get", "post"} <= set(document["paths"]["/api/v1/tickets"])
    assert "card_masked" in document["components"]["schemas"]["Ticket"]["properties"]
    assert "terminal_id" in document["components"]["schemas"]["TicketInput"]["properties"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)
field_names = st.sampled_from(
    ["terminal_id", "transaction_time", "amount", "currency", "card_number", "card_type"]
    + ["response_code", "rrn", "trace_number", "batch_number", "description", "cvv"]
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.dictionaries(field_names, json_values, max_size=8))
def test_never_500_on_any_json(client, token, body):
    with translation.override("zh-hans"):
        response = post(client, token, {**payload(), **body})
    assert response.status_code in (201, 400)
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db(transaction=True)
def test_create_query_count_does_not_grow_with_tickets_or_agents(
    client, token, merchant_user, database_tasks
):
    """Creating a ticket asks a fixed number of queries: the mails to every agent and the
    incident check are background tasks (one task row, written in the ticket's transaction)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from tests.conftest import run_database_tasks

    factories.terminal(merchant=merchant_user.merchant, tid="ABCD1234")
    factories.agent()
    post(client, token, payload(rrn="000000000001"))  # warm up
    with CaptureQueriesContext(connection) as first:
        assert post(client, token, payload(rrn="000000000002")).status_code == 201
    for _ in range(5):
        factories.agent()
    for _ in range(20):
        factories.ticket(merchant=merchant_user.merchant)
    with CaptureQueriesContext(connection) as later:
        assert post(client, token, payload(rrn="000000000003")).status_code == 201
    assert len(later) <= len(first) <= CREATE_QUERIES, [q["sql"][:80] for q in later]
    assert not any("outgoingmail" in q["sql"] for q in later)  # no mail built in the request
    queued = DBTaskResult.objects.filter(task_path__endswith="notify_ticket_created")
    assert queued.count() == 23 and {t.status for t in queued} == {"READY"}
    run_database_tasks()  # the worker's part
    assert set(queued.all().values_list("status", flat=True)) == {"SUCCESSFUL"}


# Was 18 with the mail and the incident check in the request (now background tasks); 4 of these
# count the rate limits (merchant and token: add + increment each) when there is no Redis.
# bench/run.py measures the same request under load.
CREATE_QUERIES = 17
