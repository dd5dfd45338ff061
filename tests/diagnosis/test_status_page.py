"""The public bank status page (issue 17 D): no login, both languages, states from incidents
and announcements, 30 days of incidents, an Atom feed, cached for anonymous visitors."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override

from diagnosis.models import Incident
from knowledge.models import Announcement
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def banks():
    return {
        "down": factories.bank(code="icbc", name_zh="工商银行", name_en="ICBC"),
        "maint": factories.bank(code="boc", name_zh="中国银行", name_en="Bank of China"),
        "fine": factories.bank(code="cmb", name_zh="招商银行", name_en="China Merchants Bank"),
    }


def incident(bank, *, hours_ago=1, **kwargs):
    when = timezone.now() - timedelta(hours=hours_ago)
    return Incident.objects.create(
        acquirer=bank, started_at=when, last_ticket_at=when, merchant_count=4, **kwargs
    )


def window(bank, *, start_hours, length_hours=2, title="系统升级", **kwargs):
    start = timezone.now() + timedelta(hours=start_hours)
    return Announcement.objects.create(
        **kwargs,
        bank=bank,
        title_zh=f"{bank.name_zh}{title}",
        title_en=f"{bank.name_en} upgrade",
        starts_at=start,
        ends_at=start + timedelta(hours=length_hours),
    )


def state_of(body, code):
    part = body[body.index(f'id="bank-{code}"') :]
    return part[: part.index("</li>")]


def test_states_from_incidents_and_announcements(client, banks, django_assert_max_num_queries):
    incident(banks["down"])
    window(banks["maint"], start_hours=-1)
    upcoming = window(banks["fine"], start_hours=24)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("diagnosis:status"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "服务异常" in state_of(body, "icbc")
    assert "维护中" in state_of(body, "boc")
    fine = state_of(body, "cmb")
    assert "正常" in fine and "已公告维护" in fine and upcoming.title_zh in body


def test_card_network_switches_have_their_own_section_and_states(client, banks):
    network = Announcement.BankRole.NETWORK
    cups = factories.bank(code="cups", name_zh="银联转接", is_acquirer=False, is_network=True)
    visa = factories.bank(code="visa", name_zh="Visa 网络", is_acquirer=False, is_network=True)
    factories.bank(code="mc", name_zh="万事达网络", is_acquirer=False, is_network=True)
    issuer = factories.bank(code="issuer", name_zh="某发卡行", is_acquirer=False)
    window(cups, start_hours=-1, bank_role=network)  # network maintenance running now
    window(visa, start_hours=-1, bank_role=network, severity=Announcement.Severity.CRITICAL)
    Announcement.objects.create(  # a window of every acquirer: not a network's
        bank=None,
        title_zh="全部收单行维护",
        title_en="All acquirers",
        starts_at=timezone.now() - timedelta(hours=1),
        ends_at=timezone.now() + timedelta(hours=1),
    )
    window(banks["fine"], start_hours=-1, bank_role=network)  # a network role on an acquirer
    body = client.get(reverse("diagnosis:status")).content.decode()
    networks = body[body.index('id="networks-title"') :]
    acquirers = body[: body.index('id="networks-title"')]
    assert 'id="bank-cups"' in networks and 'id="bank-icbc"' in acquirers
    assert 'id="bank-cups"' not in acquirers and 'id="bank-icbc"' not in networks
    assert f'id="bank-{issuer.code}"' not in body  # issuers are not on the page
    assert "维护中" in state_of(body, "cups")
    assert "服务异常" in state_of(body, "visa")  # a critical network announcement
    assert "正常" in state_of(body, "mc")
    assert "维护中" in state_of(body, "cmb")  # the all-acquirer window, not the network one
    assert "正常" in state_of(body, "mc")


def test_english_page_and_thirty_days_of_history(client, banks):
    old = incident(banks["down"], hours_ago=24 * 40, status=Incident.Status.RESOLVED)
    recent = incident(banks["maint"], hours_ago=24 * 3, status=Incident.Status.RESOLVED)
    dismissed = incident(banks["fine"], hours_ago=5, status=Incident.Status.DISMISSED)
    with override("en"):
        url = reverse("diagnosis:status")
    assert url.startswith("/en/")
    body = client.get(url).content.decode()
    assert "Bank of China" in body and 'lang="en"' in body
    assert f'id="incident-{recent.pk}"' in body
    assert f'id="incident-{old.pk}"' not in body and f'id="incident-{dismissed.pk}"' not in body


def test_query_count_does_not_grow_with_banks_and_incidents(client, banks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident(banks["down"])
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("diagnosis:status"))
    for n in range(6):
        bank = factories.bank()
        incident(bank, hours_ago=50, status=Incident.Status.RESOLVED)
        window(bank, start_hours=n + 1)
    from django.core.cache import cache

    cache.clear()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("diagnosis:status"))
    assert len(many) == len(few)


def test_the_page_is_cached_and_a_new_incident_shows_at_once(client, banks):
    url = reverse("diagnosis:status")
    client.get(url)
    second = client.get(url)
    assert "服务异常" not in second.content.decode()
    incident(banks["down"])  # bumps the pages version
    assert "服务异常" in client.get(url).content.decode()


def test_atom_feed_lists_incidents_and_windows(client, banks):
    found = incident(banks["down"])
    announced = window(banks["maint"], start_hours=5)
    response = client.get(reverse("diagnosis:status_feed"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    body = response.content.decode()
    assert f"declinedesk:status:incident:{found.pk}" in body
    assert f"declinedesk:status:window:{announced.pk}" in body
    assert "工商银行" in body


def test_the_demo_shows_the_incident_and_an_announced_window(client):
    from diagnosis.accounts.demo import seed_banks
    from diagnosis.insight.demo import seed_incident
    from diagnosis.status.demo import seed_maintenance_window

    seed_banks()
    assert seed_incident() == 1
    assert seed_maintenance_window() == 1
    assert seed_maintenance_window() == 0  # idempotent
    body = client.get(reverse("diagnosis:status")).content.decode()
    assert "服务异常" in state_of(body, "ums")
    assert "已公告维护" in state_of(body, "icbc") and "工商银行收单系统例行维护" in body
    from diagnosis.status.demo import seed_networks

    assert seed_networks() == 2 and seed_networks() == 0
    from django.core.cache import cache

    cache.clear()
    body = client.get(reverse("diagnosis:status")).content.decode()
    assert "正常" in state_of(body, "cups") and "银联转接网络" in body
