"""Escalation pages: create from the queue selection (one acquirer), list, detail, actions."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from diagnosis.escalations.services import escalation_create, escalation_mark_sent
from diagnosis.models import EscalationBatch, Ticket
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


@pytest.fixture
def bank():
    return factories.bank(name_zh="工商银行", name_en="ICBC")


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_queue_selection_opens_confirmation_then_creates_draft(agent_client, bank):
    shop = factories.merchant(acquirer=bank)
    tickets = [make_ticket(merchant=shop) for _ in range(2)]
    numbers = [t.number for t in tickets]
    url = reverse("diagnosis:escalation_new")
    response = agent_client.post(url, {"tickets": numbers})
    assert response.status_code == 200
    body = response.content.decode()
    assert "工商银行" in body and all(n in body for n in numbers)
    assert not EscalationBatch.objects.exists()
    response = agent_client.post(url, {"tickets": numbers, "confirm": "1", "note": "请协查"})
    batch = EscalationBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("diagnosis:escalation_detail", args=[batch.number])
    assert batch.note == "请协查" and batch.items.count() == 2


def test_mixed_acquirers_are_refused_with_a_choice_per_bank(agent_client, bank):
    a = make_ticket(merchant=factories.merchant(acquirer=bank))
    b = make_ticket(merchant=factories.merchant(acquirer=factories.bank(name_zh="建设银行")))
    url = reverse("diagnosis:escalation_new")
    for data in (
        {"tickets": [a.number, b.number]},
        {"tickets": [a.number, b.number], "confirm": "1"},
    ):
        response = agent_client.post(url, data)
        assert response.status_code == 400
        body = response.content.decode()
        assert "一个批次只能包含同一家收单行的工单" in body
        assert "只为 工商银行 创建" in body and "只为 建设银行 创建" in body
    assert not EscalationBatch.objects.exists()


def test_create_with_nothing_selected_goes_back_with_message(agent_client):
    response = agent_client.post(reverse("diagnosis:escalation_new"), {"next": "/desk/?status=new"})
    assert response.status_code == 302 and response["Location"] == "/desk/?status=new"
    assert any("请先勾选" in m for m in texts(response))


def test_service_refusal_is_shown_on_the_confirmation_page(agent_client, bank):
    closed = make_ticket(merchant=factories.merchant(acquirer=bank), status="closed")
    response = agent_client.post(
        reverse("diagnosis:escalation_new"), {"tickets": [closed.number], "confirm": "1"}
    )
    assert response.status_code == 400
    assert closed.number in response.content.decode()
    assert "不能提交银行" in response.content.decode()


def test_detail_actions_walk_the_status_flow(agent_client, agent, bank, merchant_user):
    ticket = make_ticket(merchant=merchant_user.merchant)
    other = make_ticket(merchant=factories.merchant(acquirer=merchant_user.merchant.acquirer))
    batch = escalation_create(actor=agent, tickets=[ticket, other])
    detail = reverse("diagnosis:escalation_detail", args=[batch.number])
    status_url = reverse("diagnosis:escalation_status", args=[batch.number])
    body = agent_client.get(detail).content.decode()
    assert 'name="action" value="sent"' in body
    assert 'name="action" value="answered"' not in body
    assert agent_client.post(status_url, {"action": "answered"}).status_code == 302
    batch.refresh_from_db()
    assert batch.status == "draft"  # refused: draft → answered
    agent_client.post(status_url, {"action": "sent"})
    batch.refresh_from_db()
    ticket.refresh_from_db()
    assert batch.status == "sent" and ticket.status == Ticket.Status.ESCALATED
    # the merchant sees "escalated to bank" on their own ticket page
    factories.sign_in(agent_client, merchant_user)
    merchant_page = agent_client.get(reverse("diagnosis:ticket_detail", args=[ticket.number]))
    assert merchant_page.status_code == 200
    assert "已提交银行" in merchant_page.content.decode()
    assert batch.number not in merchant_page.content.decode()  # internal marker stays internal
    factories.sign_in(agent_client, agent)
    agent_client.post(status_url, {"action": "answered"})
    agent_client.post(status_url, {"action": "closed"})
    batch.refresh_from_db()
    assert batch.status == "closed"
    assert agent_client.post(status_url, {"action": "nonsense"}).status_code == 302


def test_bank_reference_form(agent_client, agent, bank):
    ticket = make_ticket(merchant=factories.merchant(acquirer=bank))
    batch = escalation_create(actor=agent, tickets=[ticket])
    item = batch.items.get()
    url = reverse("diagnosis:escalation_reference", args=[batch.number, item.pk])
    response = agent_client.post(url, {"reference": "ICBC-1"})
    assert response.status_code == 400  # draft: not sent yet
    assert "发送后" in response.content.decode()
    escalation_mark_sent(batch=batch, actor=agent)
    response = agent_client.post(url, {"reference": "ICBC-1"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.bank_reference == "ICBC-1"
    response = agent_client.post(url, {"reference": "R" * 61})
    assert response.status_code == 400
    page = agent_client.get(reverse("diagnosis:desk_ticket", args=[ticket.number]))
    assert "ICBC-1" in page.content.decode()


def test_reference_of_another_batch_is_404(agent_client, agent, bank):
    one = escalation_create(
        actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=bank))]
    )
    two = escalation_create(
        actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=bank))]
    )
    url = reverse("diagnosis:escalation_reference", args=[one.number, two.items.get().pk])
    assert agent_client.post(url, {"reference": "x"}).status_code == 404


def test_remove_item_and_discard_draft(agent_client, agent, bank):
    tickets = [make_ticket(merchant=factories.merchant(acquirer=bank)) for _ in range(2)]
    batch = escalation_create(actor=agent, tickets=tickets)
    item = batch.items.first()
    agent_client.post(reverse("diagnosis:escalation_remove_item", args=[batch.number, item.pk]))
    assert batch.items.count() == 1
    response = agent_client.post(reverse("diagnosis:escalation_discard", args=[batch.number]))
    assert response["Location"] == reverse("diagnosis:escalation_list")
    assert not EscalationBatch.objects.exists()


def test_list_filters_htmx_and_query_count(
    agent_client, agent, bank, django_assert_max_num_queries
):
    other_bank = factories.bank()
    for _ in range(3):
        escalation_create(
            actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=bank))]
        )
    sent = escalation_create(
        actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=other_bank))]
    )
    escalation_mark_sent(batch=sent, actor=agent)
    url = reverse("diagnosis:escalation_list")
    response = agent_client.get(url)
    assert len(response.context["batches"]) == 4
    assert [b.number for b in agent_client.get(url, {"status": "sent"}).context["batches"]] == [
        sent.number
    ]
    assert len(agent_client.get(url, {"acquirer": bank.pk}).context["batches"]) == 3
    part = agent_client.get(url, HTTP_HX_REQUEST="true")
    assert b"<html" not in part.content and b'id="batch-results"' in part.content
    assert b"<html" in agent_client.get(url).content
    with django_assert_max_num_queries(8):
        agent_client.get(url)
    assert agent_client.get(url, {"status": "nope", "acquirer": "x"}).status_code == 200


def test_empty_list_state(agent_client):
    assert (
        "还没有符合条件的批次"
        in agent_client.get(reverse("diagnosis:escalation_list")).content.decode()
    )


def test_detail_query_count_constant(agent_client, agent, bank):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count(batch):
        agent_client.get(reverse("diagnosis:escalation_list"))  # warm per-process caches first
        with CaptureQueriesContext(connection) as ctx:
            assert (
                agent_client.get(
                    reverse("diagnosis:escalation_detail", args=[batch.number])
                ).status_code
                == 200
            )
        return len(ctx.captured_queries)

    small = escalation_create(
        actor=agent, tickets=[make_ticket(merchant=factories.merchant(acquirer=bank))]
    )
    big = escalation_create(
        actor=agent,
        tickets=[make_ticket(merchant=factories.merchant(acquirer=bank)) for _ in range(15)],
    )
    assert count(small) == count(big)
