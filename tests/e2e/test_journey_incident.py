"""Journey: a burst of bank-side declines raises an incident that a merchant then sees.

Two merchants of 甲银行 have just recorded code-91 declines (issuer or switch down). A third
merchant of the same bank records one more through the ticket form in the browser: the inline
detection opens an incident. That merchant then opens the troubleshooting wizard: the banner
names the bank and the time, and typing code 91 leads to the bank-side outcome with the incident
called out. An agent sees the incident on the desk and confirms it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from diagnosis.models import Incident
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import check_page, login, press, transaction_time_value

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def burst(content, settings):
    settings.INCIDENT_MIN_MERCHANTS = 3
    settings.INCIDENT_WINDOW_MINUTES = 30
    bank = factories.bank(code="jia", name_zh="甲银行", name_en="Bank Jia")
    for n in (1, 2):
        merchant = factories.merchant(acquirer=bank)
        factories.ticket(
            merchant=merchant,
            response_code="91",
            transaction_time=timezone.now() - timedelta(minutes=5),
        )
    merchant = factories.merchant(acquirer=bank)
    factories.terminal(merchant=merchant, tid="E2E09001", location="收银台")
    return {"bank": bank, "user": factories.merchant_user(merchant=merchant)}


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_burst_of_tickets_raises_an_incident_the_merchant_sees_in_the_wizard(
    live_server, make_page, burst, viewport
):
    assert Incident.objects.count() == 0  # two merchants are not enough
    page = make_page(viewport=viewport)
    login(page, live_server.url, burst["user"], next_path="/tickets/new/")

    # The third merchant records a code-91 decline.
    page.get_by_label("终端", exact=True).select_option(label="E2E09001 · 收银台")
    page.get_by_label("交易时间").fill(transaction_time_value(hours_ago=0))
    page.get_by_label("金额").fill("66.00")
    page.get_by_label("应答码", exact=True).fill("91")
    with page.expect_navigation():
        press(page, page.get_by_role("button", name="保存工单"))
    assert "/tickets/DD-" in page.url, page.url

    incident = Incident.objects.get()
    assert incident.acquirer == burst["bank"] and incident.merchant_count == 3
    since = timezone.localtime(incident.started_at).strftime("%H:%M")

    # The wizard: the banner names the bank and the time …
    page.goto(live_server.url + "/diagnose/")
    banner = page.locator(".insight-alerts")
    expect(banner).to_contain_text(f"甲银行的很多商户自 {since} 起报告交易失败")
    check_page(page)
    # … and code 91 leads to the bank-side outcome, with the incident called out.
    page.get_by_label("应答码").fill("91")
    press(page, page.get_by_role("button", name="查原因"))
    expect(page.get_by_role("heading", level=1)).to_have_text("发卡行或银联系统故障")
    callout = page.locator(".incident-callout")
    expect(callout).to_contain_text("你的收单行的很多商户正在报告同样的失败")
    expect(callout).to_contain_text(f"甲银行：自 {since} 起")
    check_page(page)

    # The same merchant in English.
    page.goto(live_server.url + "/en/diagnose/")
    expect(page.locator(".insight-alerts")).to_contain_text(
        f"Many merchants of Bank Jia report failures since {since}"
    )


def test_agent_sees_the_incident_on_the_desk_and_confirms_it(live_server, make_page, burst):
    factories.ticket(merchant=burst["user"].merchant, user=burst["user"], response_code="91")
    incident = Incident.objects.get()
    page = make_page(viewport=DESKTOP)
    login(page, live_server.url, factories.agent(), next_path="/desk/")
    alert = page.locator(".insight-alerts")
    expect(alert).to_contain_text("故障事件：甲银行")
    with page.expect_navigation():
        press(page, alert.get_by_role("link", name="查看并处理"))
    assert page.url.endswith(f"/desk/incidents/{incident.pk}/")
    expect(page.locator("table.desk-table tbody tr")).to_have_count(3)
    check_page(page)
    with page.expect_navigation():
        press(page, page.get_by_role("button", name="确认是银行故障"))
    expect(page.locator(".messages")).to_contain_text("已确认")
    incident.refresh_from_db()
    assert incident.status == Incident.Status.CONFIRMED
    # The dashboard renders its charts for the same data.
    page.goto(live_server.url + "/desk/insight/")
    expect(page.locator("svg[role=img]").first).to_be_visible()
    check_page(page)
