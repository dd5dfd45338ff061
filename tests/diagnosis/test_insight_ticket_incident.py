"""The agent's ticket page shows the active incident a ticket belongs to (linked to it, or of its
merchant's acquirer), with a link to the incident and, when not linked yet, a button linking it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from diagnosis.insight import alerts
from diagnosis.models import Incident
from tests import factories
from tests.diagnosis.insight_support import open_incident

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


def page(client, ticket, prefix=""):
    response = client.get(f"{prefix}/desk/tickets/{ticket.number}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html):
    start = html.find('class="card card-incident"')
    return html[start : html.find("</section>", start)] if start >= 0 else ""


def test_a_linked_ticket_shows_its_incident_with_a_link(agent_client, incident):
    ticket = incident.tickets.order_by("pk").first()
    found = section(page(agent_client, ticket))
    since = timezone.localtime(incident.started_at).strftime("%H:%M")
    assert f"故障事件：甲银行 自 {since} 起有 3 家商户报告失败" in found
    assert "这张工单已关联到这个事件。" in found and "待确认" in found
    assert f'href="/desk/incidents/{incident.pk}/"' in found
    assert "把这张工单关联到事件" not in found


def test_a_ticket_of_the_acquirer_can_be_linked_from_its_page(agent_client, incident, bank):
    ticket = factories.ticket(merchant=factories.merchant(acquirer=bank))
    found = section(page(agent_client, ticket))
    assert "工单还没有关联到它" in found and "把这张工单关联到事件" in found
    assert f'action="/desk/incidents/{incident.pk}/link/"' in found
    assert f'name="numbers" value="{ticket.number}"' in found
    response = agent_client.post(f"/desk/incidents/{incident.pk}/link/", {"numbers": ticket.number})
    assert response.status_code == 302
    assert incident.tickets.filter(pk=ticket.pk).exists()
    assert "这张工单已关联到这个事件。" in section(page(agent_client, ticket))


def test_confirmed_incident_in_english(agent_client, incident):
    incident.status = Incident.Status.CONFIRMED
    incident.save()
    alerts.forget()
    found = section(page(agent_client, incident.tickets.first(), prefix="/en"))
    assert "This ticket is linked to this incident." in found
    assert f"View incident #{incident.pk}" in found


@pytest.mark.parametrize("status", [Incident.Status.DISMISSED, Incident.Status.RESOLVED])
def test_no_section_once_the_incident_is_over(agent_client, incident, status):
    incident.status = status
    incident.save()
    alerts.forget()
    assert section(page(agent_client, incident.tickets.first())) == ""


def test_no_section_for_another_acquirers_ticket(agent_client, incident):
    other = factories.ticket(merchant=factories.merchant())
    assert section(page(agent_client, other)) == ""


def test_merchants_never_see_the_desk_section(client, incident):
    ticket = incident.tickets.first()
    factories.sign_in(client, factories.merchant_user(merchant=ticket.merchant))
    assert client.get(f"/desk/tickets/{ticket.number}/").status_code == 403


def test_query_count_does_not_grow_with_linked_tickets(agent_client, incident, bank):
    ticket = incident.tickets.first()
    quiet = factories.ticket(merchant=factories.merchant())

    def count(t):
        page(agent_client, t)  # warm the per-process caches first
        with CaptureQueriesContext(connection) as ctx:
            page(agent_client, t)
        return len(ctx.captured_queries)

    without = count(quiet)
    with_incident = count(ticket)
    assert with_incident <= without + 1  # the link lookup (the incidents come from the cache)
    merchants = [factories.merchant(acquirer=bank) for _ in range(5)]
    incident.tickets.add(*[factories.ticket(merchant=m) for m in merchants])
    assert count(ticket) == with_incident
