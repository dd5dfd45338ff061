"""The agents' queue: filters, sorting, shortcuts, keyset pagination, htmx, constant queries."""

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from diagnosis.core.pagination import keyset_order, keyset_page
from diagnosis.desk import live, selectors
from diagnosis.models import Ticket
from knowledge.models import Category
from tests import factories
from tests.diagnosis.desk_support import make_ticket, make_tickets

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def numbers(response):
    return [t.number for t in response.context["tickets"]]


def queue(client, **params):
    response = client.get(reverse("diagnosis:desk"), params)
    assert response.status_code == 200
    return response


def test_default_queue_shows_open_tickets_newest_first(agent_client):
    old = make_ticket(created_at=timezone.now() - timedelta(days=2))
    new = make_ticket(created_at=timezone.now() - timedelta(hours=1))
    done = make_ticket(status=Ticket.Status.RESOLVED)
    closed = make_ticket(status=Ticket.Status.CLOSED)
    got = numbers(queue(agent_client))
    assert got == [new.number, old.number]
    assert done.number not in got and closed.number not in got
    assert set(numbers(queue(agent_client, status="all"))) == {
        old.number,
        new.number,
        done.number,
        closed.number,
    }


def test_status_filter(agent_client):
    waiting = make_ticket(status=Ticket.Status.WAITING_MERCHANT)
    make_ticket(status=Ticket.Status.NEW)
    assert numbers(queue(agent_client, status="waiting_merchant")) == [waiting.number]


def test_acquirer_filter(agent_client):
    bank_a, bank_b = factories.bank(), factories.bank()
    a = make_ticket(merchant=factories.merchant(acquirer=bank_a))
    make_ticket(merchant=factories.merchant(acquirer=bank_b))
    assert numbers(queue(agent_client, acquirer=bank_a.pk)) == [a.number]


def test_category_filter(agent_client):
    funds = Category.objects.create(key="funds_limits", name_zh="余额", name_en="Funds")
    pin = Category.objects.create(key="pin", name_zh="密码", name_en="PIN")
    a = make_ticket(category=funds)
    make_ticket(category=pin)
    make_ticket()
    assert numbers(queue(agent_client, category="funds_limits")) == [a.number]


def test_response_code_filter_is_case_insensitive(agent_client):
    a0 = make_ticket(response_code="A0")
    make_ticket(response_code="51")
    assert numbers(queue(agent_client, code="a0")) == [a0.number]


def test_merchant_filter_by_mid(agent_client):
    shop = factories.merchant()
    mine = make_ticket(merchant=shop)
    make_ticket()
    assert numbers(queue(agent_client, merchant=shop.mid)) == [mine.number]


def test_terminal_filter(agent_client):
    a = make_ticket(tid="ABCD1234")
    make_ticket(tid="ZZZZ9999")
    assert numbers(queue(agent_client, tid="abcd1234")) == [a.number]


def test_assignee_filters(agent_client, agent):
    other = factories.agent()
    mine = make_ticket(assignee=agent)
    theirs = make_ticket(assignee=other)
    nobody = make_ticket()
    assert numbers(queue(agent_client, assignee="me")) == [mine.number]
    assert numbers(queue(agent_client, assignee="none")) == [nobody.number]
    assert numbers(queue(agent_client, assignee=str(other.pk))) == [theirs.number]


def test_overdue_filter(agent_client):
    now = timezone.now()
    late = make_ticket(first_response_due=now - timedelta(minutes=1))
    make_ticket(first_response_due=now - timedelta(hours=1), first_responded_at=now)  # answered
    make_ticket(first_response_due=now + timedelta(hours=1))  # not yet due
    for done in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        make_ticket(first_response_due=now - timedelta(hours=1), status=done)
    response = queue(agent_client, overdue="on")
    assert numbers(response) == [late.number]
    assert b"row-overdue" in response.content
    # "All statuses" shows done tickets too; the overdue filter must still leave them out.
    assert numbers(queue(agent_client, overdue="on", status="all")) == [late.number]


def test_date_range_uses_local_days(agent_client):
    # 2026-03-01 23:30 in Shanghai is 15:30 UTC: it belongs to the local day 03-01.
    late_evening = datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)
    next_morning = datetime(2026, 3, 2, 0, 30, tzinfo=SHANGHAI)
    a = make_ticket(created_at=late_evening)
    b = make_ticket(created_at=next_morning)
    assert numbers(queue(agent_client, date_from="2026-03-01", date_to="2026-03-01")) == [a.number]
    assert numbers(queue(agent_client, date_from="2026-03-02")) == [b.number]
    assert numbers(queue(agent_client, date_to="2026-03-01")) == [a.number]


def test_search_by_number_or_rrn(agent_client):
    a = make_ticket(rrn="123456789012")
    make_ticket()
    assert numbers(queue(agent_client, q=a.number.lower())) == [a.number]
    assert numbers(queue(agent_client, q="123456789012")) == [a.number]


def test_filters_combine(agent_client, agent):
    bank = factories.bank()
    shop = factories.merchant(acquirer=bank)
    hit = make_ticket(merchant=shop, response_code="05", assignee=agent)
    make_ticket(merchant=shop, response_code="05")
    make_ticket(merchant=shop, response_code="51", assignee=agent)
    got = numbers(queue(agent_client, acquirer=bank.pk, code="05", assignee="me"))
    assert got == [hit.number]


def test_invalid_filters_are_reported_not_500(agent_client):
    make_ticket()
    response = queue(
        agent_client,
        merchant="12ab",
        tid="!!",
        code="toolong",
        date_from="2026-13-45",
        acquirer="999999",
        assignee="nobody",
        sort="evil",
        after="garbage",
        before="%%%",
    )
    form = response.context["form"]
    for name in ("merchant", "tid", "code", "date_from", "acquirer", "assignee", "sort"):
        assert name in form.errors, name
    assert len(response.context["tickets"]) == 1  # invalid filters are ignored
    assert b"12ab" in response.content  # what the agent typed is kept


def test_date_to_before_date_from_is_an_error(agent_client):
    response = queue(agent_client, date_from="2026-03-05", date_to="2026-03-01")
    assert "date_to" in response.context["form"].errors


def test_sort_by_transaction_time(agent_client):
    now = timezone.now()
    a = make_ticket(transaction_time=now - timedelta(days=3))
    b = make_ticket(transaction_time=now - timedelta(days=1))
    c = make_ticket(transaction_time=now - timedelta(days=2))
    assert numbers(queue(agent_client, sort="transaction")) == [b.number, c.number, a.number]


def test_sort_by_due_puts_no_due_last(agent_client):
    now = timezone.now()
    later = make_ticket(first_response_due=now + timedelta(hours=3))
    none = make_ticket(first_response_due=None)
    soon = make_ticket(first_response_due=now + timedelta(hours=1))
    assert numbers(queue(agent_client, sort="due")) == [soon.number, later.number, none.number]


def test_sort_by_priority_urgent_first(agent_client):
    low = make_ticket(priority="low")
    urgent = make_ticket(priority="urgent")
    normal = make_ticket(priority="normal")
    high = make_ticket(priority="high")
    got = numbers(queue(agent_client, sort="priority"))
    assert got == [urgent.number, high.number, normal.number, low.number]


def test_oldest_first(agent_client):
    a = make_ticket(created_at=timezone.now() - timedelta(days=1))
    b = make_ticket(created_at=timezone.now())
    assert numbers(queue(agent_client, sort="oldest")) == [a.number, b.number]


@pytest.mark.parametrize("sort", list(selectors.SORTS))
def test_keyset_pages_cover_everything_once_forward_and_back(agent, sort):
    now = timezone.now()
    same_time = now - timedelta(hours=1)
    for i in range(11):
        make_ticket(
            created_at=same_time if i % 3 == 0 else now - timedelta(minutes=i),
            transaction_time=same_time,
            priority=["low", "normal", "high", "urgent"][i % 4],
            first_response_due=None if i % 4 == 0 else same_time + timedelta(minutes=i % 2),
        )
    filters = {"sort": sort, "status": "all"}
    expected = list(
        Ticket.objects.order_by(*keyset_order(selectors.SORTS[sort])).values_list(
            "number", flat=True
        )
    )
    pages, after = [], ""
    while True:
        page = selectors.ticket_queue(user=agent, filters=filters, after=after, per_page=4)
        pages.append(page)
        if not page.has_next:
            break
        after = page.next_cursor
    seen = [t.number for p in pages for t in p.items]
    assert seen == expected
    assert [len(p.items) for p in pages] == [4, 4, 3]
    assert not pages[0].has_previous and pages[1].has_previous
    # back from the last page gives exactly the middle page again
    back = selectors.ticket_queue(
        user=agent, filters=filters, before=pages[2].previous_cursor, per_page=4
    )
    assert [t.number for t in back.items] == [t.number for t in pages[1].items]
    assert back.has_previous and back.has_next


def test_pagination_links_keep_filters_and_work_without_js(agent_client, agent):
    make_tickets(55, assignee=agent)
    make_tickets(3)
    first = queue(agent_client, assignee="me")
    assert len(first.context["tickets"]) == selectors.PAGE_SIZE
    page = first.context["page"]
    assert page.count == 55 and not page.count_capped
    body = first.content.decode()
    assert f"assignee=me&amp;after={page.next_cursor}" in body
    second = queue(agent_client, assignee="me", after=page.next_cursor)
    assert len(second.context["tickets"]) == 55 - selectors.PAGE_SIZE
    assert not set(numbers(first)) & set(numbers(second))


def test_count_is_capped(agent, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 5)
    make_tickets(8)
    page = keyset_page(Ticket.objects.all(), selectors.SORTS["newest"], per_page=3, count_cap=5)
    assert page.count == 5 and page.count_capped


def test_htmx_request_gets_only_the_results(agent_client):
    make_ticket()
    full = agent_client.get(reverse("diagnosis:desk"))
    part = agent_client.get(reverse("diagnosis:desk"), HTTP_HX_REQUEST="true")
    assert b"<html" in full.content and b'id="desk-results"' in full.content
    assert b"<html" not in part.content
    assert part.content.lstrip().startswith(b'<section id="desk-results"')
    assert b'name="tickets"' in part.content
    assert "HX-Request" in full["Vary"]


def test_filter_form_is_wired_for_htmx_and_plain_get(agent_client):
    body = agent_client.get(reverse("diagnosis:desk")).content.decode()
    assert 'method="get"' in body
    assert 'hx-target="#desk-results"' in body and 'hx-push-url="true"' in body


def test_bulk_form_is_a_real_post_form(agent_client):
    make_ticket()
    body = agent_client.get(reverse("diagnosis:desk")).content.decode()
    assert f'action="{reverse("diagnosis:desk_bulk")}"' in body
    assert 'method="post"' in body and "csrfmiddlewaretoken" in body


def test_empty_state(agent_client):
    response = queue(agent_client, code="99")
    assert "没有符合条件的工单" in response.content.decode()


def _queue_queries(client, **params):
    client.get(reverse("diagnosis:desk"), params)  # warm per-process caches first
    live.tickets_changed()  # the table itself is rendered, not read from the cache
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("diagnosis:desk"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_tickets(agent_client, django_assert_max_num_queries):
    agents = [factories.agent() for _ in range(2)]
    banks = [factories.bank() for _ in range(2)]
    for i in range(5):
        make_ticket(merchant=factories.merchant(acquirer=banks[i % 2]), assignee=agents[i % 2])
    few = _queue_queries(agent_client)
    for i in range(45):
        make_ticket(merchant=factories.merchant(acquirer=banks[i % 2]), assignee=agents[i % 2])
    many = _queue_queries(agent_client)
    assert few == many
    with django_assert_max_num_queries(10):
        agent_client.get(reverse("diagnosis:desk"), {"sort": "priority", "assignee": "none"})
    htmx_few = _queue_queries(agent_client, status="all")
    make_tickets(20)
    assert _queue_queries(agent_client, status="all") == htmx_few


def test_unchanged_queue_table_comes_from_the_cache(agent_client):
    """A second look at an unchanged queue reads no ticket; a change anywhere shows at once."""
    first = make_ticket()
    url = reverse("diagnosis:desk")
    agent_client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        body = agent_client.get(url).content.decode()
    assert first.number in body
    assert not any("diagnosis_ticket" in q["sql"] for q in ctx.captured_queries)
    second = make_ticket()  # written straight to the table, not through the services
    assert second.number in agent_client.get(url).content.decode()
    Ticket.objects.filter(pk=first.pk).delete()
    assert first.number not in agent_client.get(url).content.decode()


def test_cached_queue_table_is_not_shared_between_browsers(client):
    """The bulk form's CSRF token belongs to one browser: another session of the same agent
    (its own CSRF cookie) gets a table with its own token, and its POST is accepted."""
    from django.test import Client

    agent = factories.agent()
    make_ticket()
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    for browser in (first, second):
        factories.sign_in(browser, agent)
    url = reverse("diagnosis:desk")
    pattern = r'name="csrfmiddlewaretoken" value="([^"]+)"'
    first.get(url)
    token_first = re.findall(pattern, first.get(url).content.decode())
    token_second = re.findall(pattern, second.get(url).content.decode())
    assert token_first and token_second
    response = second.post(
        reverse("diagnosis:desk_bulk"),
        {"csrfmiddlewaretoken": token_second[-1], "action": "status", "status": "in_progress"},
    )
    assert response.status_code in (200, 302)  # not 403: the token is this browser's


def test_no_uncapped_count_query(agent_client):
    make_tickets(3)
    with CaptureQueriesContext(connection) as ctx:
        agent_client.get(reverse("diagnosis:desk"))
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts, "the capped count runs"
    for sql in counts:
        assert "LIMIT" in sql.upper()


def test_amount_and_masked_card_only(agent_client):
    make_ticket(amount=Decimal("88.80"), card_masked="622848******4321")
    body = queue(agent_client).content.decode()
    assert "88.80" in body


def test_full_card_number_typed_into_a_filter_is_never_echoed(agent_client):
    params = {"q": "6228480402564890018", "merchant": "6228 4804 0256 4890 018", "code": "51"}
    redirect = agent_client.get(reverse("diagnosis:desk"), params)
    assert redirect.status_code == 302
    assert "6228480402564890018" not in redirect["Location"]
    assert "code=51" in redirect["Location"]
    response = agent_client.get(redirect["Location"])
    assert response.status_code == 200
    body = response.content.decode()
    assert "6228480402564890018" not in body
    assert "6228 4804 0256 4890 018" not in body
    assert "622848" in body  # shown masked, so the agent sees what happened


def test_queue_in_english(agent_client):
    make_ticket()
    response = agent_client.get("/en" + reverse("diagnosis:desk"))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("Ticket queue", "Assign selected", "Escalate to bank (create batch)", "Filter"):
        assert text in body, text
    assert "工单队列" not in body


def test_invalid_filter_is_reported_in_the_htmx_fragment_too(agent_client):
    part = agent_client.get(reverse("diagnosis:desk"), {"tid": "!!"}, HTTP_HX_REQUEST="true")
    body = part.content.decode()
    assert "<html" not in body
    assert "以下筛选条件无效" in body and "终端号（TID）是 8 位数字或字母" in body


@pytest.mark.parametrize(
    "values",
    [
        ["2026-01-01T00:00:00+00:00", 2**70],
        ["2026-01-01T00:00:00", 1],
        [1, 1],
        ["2026-01-01T00:00:00+00:00", True],
        ["nonsense", 1],
        ["2026-01-01T00:00:00+00:00"],
    ],
)
def test_forged_cursors_fall_back_to_the_first_page(agent_client, values):
    import base64
    import json

    first = make_ticket()
    token = base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")
    for key in ("after", "before"):
        response = queue(agent_client, **{key: token})
        assert numbers(response) == [first.number]
