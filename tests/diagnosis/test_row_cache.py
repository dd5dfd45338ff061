"""Rows of the agents' queue are rendered once and reused (config/fragments.py): a change to a
ticket shows on the next page view, languages stay apart, and the page asks no more."""

import pytest

from diagnosis.tickets import services as ticket_services
from tests import factories
from tests.diagnosis.desk_support import make_ticket, make_tickets

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def row_of(html: str, number: str) -> str:
    start = html.index(f'value="{number}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def test_a_changed_ticket_shows_its_new_state_on_the_next_view(agent_client, agent):
    ticket = make_ticket()
    assert "未分配" in row_of(agent_client.get("/desk/").content.decode(), ticket.number)
    ticket_services.ticket_assign(ticket=ticket, actor=agent, assignee=agent)
    row = row_of(agent_client.get("/desk/").content.decode(), ticket.number)
    assert agent.get_username() in row and "未分配" not in row
    ticket_services.ticket_change_status(ticket=ticket, actor=agent, status="in_progress")
    assert "处理中" in row_of(agent_client.get("/desk/").content.decode(), ticket.number)


def test_each_language_gets_its_own_rows(agent_client):
    ticket = make_ticket()
    assert "未分配" in row_of(agent_client.get("/desk/").content.decode(), ticket.number)
    english = row_of(agent_client.get("/en/desk/").content.decode(), ticket.number)
    assert "Unassigned" in english and "未分配" not in english


def test_cached_rows_do_not_cost_queries(agent_client, django_assert_max_num_queries):
    merchant = factories.merchant()  # one merchant: no new bank (that would change the filters)
    make_tickets(12, merchant=merchant)
    agent_client.get("/desk/")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from diagnosis.desk import live

    live.tickets_changed()  # the table is rendered (from cached rows), not read whole
    with CaptureQueriesContext(connection) as warm:
        first = agent_client.get("/desk/")
    # Every row came from the cache: the tickets' keys only, no join for what the rows show.
    ticket_queries = [q["sql"] for q in warm if 'FROM "diagnosis_ticket"' in q["sql"]]
    assert ticket_queries and not any("diagnosis_merchant" in sql for sql in ticket_queries)
    make_tickets(12, merchant=merchant)
    with django_assert_max_num_queries(len(warm) + 1):  # the 12 new rows: one query for all
        second = agent_client.get("/desk/")
    assert first.content.count(b"<tr") + 12 == second.content.count(b"<tr")
    with django_assert_max_num_queries(len(warm)):  # and from the cache again
        third = agent_client.get("/desk/")
    assert third.content.count(b"<tr") == second.content.count(b"<tr")


def test_the_kept_filter_form_follows_the_language(agent_client):
    make_ticket()
    assert "筛选条件" in agent_client.get("/desk/").content.decode()
    english = agent_client.get("/en/desk/").content.decode()
    assert "筛选条件" not in english and "Filters" in english


def test_the_merchants_list_reads_only_keys_when_its_rows_are_cached(
    client, merchant_user, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    client.force_login(merchant_user)
    client.get("/tickets/")
    with CaptureQueriesContext(connection) as warm:
        first = client.get("/tickets/")
    ticket_queries = [q["sql"] for q in warm if 'FROM "diagnosis_ticket"' in q["sql"]]
    assert ticket_queries and not any(
        '"diagnosis_ticket"."description"' in q for q in ticket_queries
    )
    factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
    with django_assert_max_num_queries(len(warm) + 1):  # the new row: one query
        second = client.get("/tickets/")
    assert first.content.count(b'href="/tickets/DD-') + 1 == second.content.count(
        b'href="/tickets/DD-'
    )
