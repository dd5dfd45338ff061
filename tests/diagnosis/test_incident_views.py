"""Incidents for agents (confirm, dismiss, resolve, link, reply to all) and the banners that
agents, merchants and visitors see, and the wizard ranking the bank-side outcome first."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from diagnosis.models import Incident, TicketEvent
from tests import factories
from tests.diagnosis.insight_support import categories, open_incident, ticket_at
from tests.diagnosis.wizard_support import seed_small, tokens_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank():
    return factories.bank(name_zh="甲银行", name_en="Bank A")


@pytest.fixture
def incident(bank):
    return open_incident(bank)


@pytest.fixture
def agent_client(client, agent):
    factories.sign_in(client, agent)
    return client


def since(incident):
    return timezone.localtime(incident.started_at).strftime("%H:%M")


# --- list and detail --------------------------------------------------------------------------


def test_list_shows_active_incidents_and_filters(agent_client, incident, bank):
    Incident.objects.create(
        acquirer=factories.bank(name_zh="丙银行"),
        started_at=timezone.now() - dt.timedelta(days=3),
        last_ticket_at=timezone.now() - dt.timedelta(days=3),
        status=Incident.Status.RESOLVED,
    )
    html = agent_client.get("/desk/incidents/").content.decode()
    assert f"/desk/incidents/{incident.pk}/" in html and "丙银行" not in html.split("<main")[1]
    html = agent_client.get("/desk/incidents/?status=all").content.decode()
    assert "丙银行" in html
    html = agent_client.get("/desk/incidents/?status=dismissed").content.decode()
    assert "没有符合条件的故障事件" in html
    assert agent_client.get("/desk/incidents/?status=bogus&page=x").status_code == 200


def test_detail_lists_linked_tickets_and_actions(agent_client, incident):
    html = agent_client.get(f"/desk/incidents/{incident.pk}/").content.decode()
    for ticket in incident.tickets.all():
        assert ticket.number in html
    assert "确认是银行故障" in html and "忽略（误报）" in html and "标记已恢复" in html
    assert agent_client.get("/desk/incidents/99999/").status_code == 404


def test_confirm_then_resolve(agent_client, agent, incident):
    response = agent_client.post(f"/desk/incidents/{incident.pk}/status/", {"status": "confirmed"})
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.status == "confirmed" and incident.changed_by == agent
    agent_client.post(f"/desk/incidents/{incident.pk}/status/", {"status": "resolved"})
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.ended_at is not None
    # resolved → confirmed is not allowed; the status stays and a message says so
    response = agent_client.post(
        f"/desk/incidents/{incident.pk}/status/", {"status": "confirmed"}, follow=True
    )
    assert "不能把这个事件改成这个状态" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "resolved"


def test_dismiss_and_reopen_only_when_no_other_is_active(agent_client, incident, bank):
    agent_client.post(f"/desk/incidents/{incident.pk}/status/", {"status": "dismissed"})
    incident.refresh_from_db()
    assert incident.status == "dismissed"
    other = Incident.objects.create(
        acquirer=bank, started_at=timezone.now(), last_ticket_at=timezone.now()
    )
    response = agent_client.post(
        f"/desk/incidents/{incident.pk}/status/", {"status": "open"}, follow=True
    )
    assert "已经有一个进行中的事件" in response.content.decode()
    incident.refresh_from_db()
    assert incident.status == "dismissed"
    other.delete()
    agent_client.post(f"/desk/incidents/{incident.pk}/status/", {"status": "open"})
    incident.refresh_from_db()
    assert incident.status == "open"


def test_link_and_unlink_tickets(agent_client, incident, bank):
    extra = ticket_at(factories.merchant(acquirer=bank), timezone.now())
    foreign = ticket_at(factories.merchant(), timezone.now())
    response = agent_client.post(
        f"/desk/incidents/{incident.pk}/link/",
        {"numbers": f"{extra.number}, {foreign.number} DD-NOPE"},
        follow=True,
    )
    html = response.content.decode()
    assert "已关联 1 张工单" in html
    assert "不属于这家收单行" in html and foreign.number in html
    assert "找不到这些工单" in html and "DD-NOPE" in html
    incident.refresh_from_db()
    assert incident.tickets.count() == 4 and incident.merchant_count == 4
    agent_client.post(f"/desk/incidents/{incident.pk}/tickets/{extra.number}/unlink/")
    incident.refresh_from_db()
    assert incident.tickets.count() == 3 and incident.merchant_count == 3
    # an empty form keeps the page with the error
    response = agent_client.post(f"/desk/incidents/{incident.pk}/link/", {"numbers": "  "})
    assert response.status_code == 400


def test_reply_to_all_linked_tickets_in_one_go(agent_client, agent, incident):
    response = agent_client.post(
        f"/desk/incidents/{incident.pk}/reply/", {"body": "甲银行系统故障，正在恢复，请稍后重试。"}
    )
    assert response.status_code == 302
    for ticket in incident.tickets.all():
        reply = ticket.events.get(kind=TicketEvent.Kind.REPLY)
        assert reply.author == agent and "正在恢复" in reply.body and not reply.is_internal
        assert ticket.first_responded_at is not None


def test_reply_keeps_the_text_on_error_and_is_all_or_nothing(agent_client, incident, monkeypatch):
    response = agent_client.post(f"/desk/incidents/{incident.pk}/reply/", {"body": ""})
    assert response.status_code == 400
    from diagnosis.tickets import services as ticket_services

    calls = []
    real = ticket_services.ticket_reply

    def failing(**kw):
        calls.append(kw["ticket"].number)
        if len(calls) == 2:
            raise RuntimeError("mail server on fire")
        return real(**kw)

    monkeypatch.setattr(ticket_services, "ticket_reply", failing)
    with pytest.raises(RuntimeError):
        agent_client.post(f"/desk/incidents/{incident.pk}/reply/", {"body": "稍后重试"})
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.REPLY).exists()


@pytest.mark.parametrize("who", ["anonymous", "merchant_user", "editor"])
def test_only_agents_reach_incidents(client, request, incident, who):
    if who != "anonymous":
        factories.sign_in(client, request.getfixturevalue(who))
    for method, url, data in [
        ("get", "/desk/incidents/", {}),
        ("get", f"/desk/incidents/{incident.pk}/", {}),
        ("post", f"/desk/incidents/{incident.pk}/status/", {"status": "dismissed"}),
        ("post", f"/desk/incidents/{incident.pk}/reply/", {"body": "x"}),
    ]:
        response = getattr(client, method)(url, data)
        expected = 302 if who == "anonymous" else 403
        assert response.status_code == expected, (who, url)
    incident.refresh_from_db()
    assert incident.status == "open"
    assert not TicketEvent.objects.filter(kind=TicketEvent.Kind.REPLY).exists()


def test_query_counts_are_constant(agent_client, incident, bank, django_assert_max_num_queries):
    agent_client.get("/desk/incidents/")
    with django_assert_max_num_queries(8) as small_list:
        agent_client.get("/desk/incidents/")
    with django_assert_max_num_queries(12) as small_detail:
        agent_client.get(f"/desk/incidents/{incident.pk}/")
    cats = categories()
    for _ in range(10):
        incident.tickets.add(
            ticket_at(factories.merchant(acquirer=bank), timezone.now(), category=cats["network"])
        )
    for _ in range(5):
        other = factories.bank()
        Incident.objects.create(
            acquirer=other, started_at=timezone.now(), last_ticket_at=timezone.now()
        )
    with django_assert_max_num_queries(len(small_list.captured_queries) + 1):  # + banner cache
        agent_client.get("/desk/incidents/")
    with django_assert_max_num_queries(len(small_detail.captured_queries) + 1):
        agent_client.get(f"/desk/incidents/{incident.pk}/")


# --- banners ----------------------------------------------------------------------------------


def test_agents_see_the_incident_banner_on_desk_pages(agent_client, incident):
    html = agent_client.get("/desk/").content.decode()
    assert "故障事件：甲银行" in html and f"/desk/incidents/{incident.pk}/" in html
    assert f"自 {since(incident)} 起有 3 家商户报告失败" in html


def test_public_pages_show_the_bilingual_banner(client, incident):
    html = client.get("/").content.decode()
    assert f"甲银行的很多商户自 {since(incident)} 起报告交易失败" in html
    html = client.get("/en/").content.decode()
    assert f"Many merchants of Bank A report failures since {since(incident)}" in html


def test_merchants_see_only_their_acquirers_incident(client, incident, bank):
    other = factories.merchant_user()
    factories.sign_in(client, other)
    assert "的很多商户自" not in client.get("/tickets/").content.decode()
    own = factories.merchant_user(merchant=factories.merchant(acquirer=bank))
    factories.sign_in(client, own)
    assert "甲银行的很多商户自" in client.get("/tickets/").content.decode()


def test_no_banner_after_the_incident_is_resolved_or_dismissed(agent_client, client, incident):
    agent_client.post(f"/desk/incidents/{incident.pk}/status/", {"status": "resolved"})
    assert "的很多商户自" not in client.get("/").content.decode()
    assert "故障事件：" not in agent_client.get("/desk/").content.decode()


def test_banner_costs_at_most_one_query_and_none_when_warm(
    client, incident, django_assert_max_num_queries
):
    client.get("/")
    from diagnosis.insight import alerts

    with django_assert_max_num_queries(0):
        alerts.active_incidents()


# --- the wizard -------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


PATH = ["no-code", "many", "fine", "midnight"]  # reaches o-network, o-bank is on the way


def outcome_html(client, tokens=PATH):
    response = client.get(tokens_url(tokens), follow=True)
    assert response.status_code == 200
    return response.content.decode()


def test_wizard_ranks_the_bank_outcome_first_for_the_acquirers_merchants(
    client, tree, incident, bank
):
    user = factories.merchant_user(merchant=factories.merchant(acquirer=bank))
    factories.sign_in(client, user)
    html = outcome_html(client)
    assert re.search(r"<h1[^>]*>银行系统维护</h1>", html)
    assert "你的收单行的很多商户正在报告同样的失败" in html
    assert f"甲银行：自 {since(incident)} 起" in html
    assert html.index("银行系统维护") < html.index("网络故障的摘要。")
    from diagnosis.models import WizardRun

    assert WizardRun.objects.get().bank_lead is True


def test_wizard_banner_but_no_reranking_for_other_banks_and_anonymous(client, tree, incident):
    html = outcome_html(client)  # anonymous: the bank is unknown
    assert "甲银行的很多商户自" in html  # the banner names the bank
    assert re.search(r"<h1[^>]*>网络故障</h1>", html)
    factories.sign_in(client, factories.merchant_user())
    html = outcome_html(client)
    assert re.search(r"<h1[^>]*>网络故障</h1>", html) and "甲银行的很多商户自" not in html


def test_wizard_not_reranked_when_answers_point_elsewhere(client, tree, incident, bank):
    factories.sign_in(client, factories.merchant_user(merchant=factories.merchant(acquirer=bank)))
    html = outcome_html(client, ["no-code", "many", "dead"])
    assert re.search(r"<h1[^>]*>终端故障</h1>", html)


def test_wizard_shows_the_incident_banner_only_where_a_bank_cause_fits(client, tree, incident):
    """The banner says "probably the bank": not on pages where the answers point at the card or
    the shop's own terminal (issue 15)."""
    banner = "甲银行的很多商户自"
    assert banner in client.get("/diagnose/").content.decode()  # nothing answered yet
    assert banner in outcome_html(client, ["no-code", "many"])  # a bank cause may still fit
    assert banner in outcome_html(client, ["91"])  # a bank-side outcome
    assert banner in outcome_html(client)  # passed a question that offered the bank
    assert banner not in outcome_html(client, ["no-code", "many", "dead"])  # the terminal
    assert banner not in outcome_html(client, ["no-code", "only-this"])  # the card
    assert banner not in outcome_html(client, ["51"])  # a card-side code
    assert banner in client.get("/").content.decode()  # other pages keep it
