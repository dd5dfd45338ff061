"""Journey 3: an agent works the new ticket, the merchant sees only what is meant for them, and
the ticket goes to the bank in an escalation batch whose CSV export carries only the masked card.
"""

import csv
import io
from pathlib import Path

import pytest
from django.utils import translation
from playwright.sync_api import expect

from diagnosis.escalations.exports import export_columns
from diagnosis.models import EscalationBatch, Ticket
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE
from tests.e2e.support import FULL_CARD, MASKED_CARD, check_page, login, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY = "您好，已经联系收单行核实这笔交易，请稍候。"
NOTE = "内部：商户上月有两笔同样的拒绝，留意是否为风控。"


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_agent_handles_ticket_and_escalates_it_to_the_bank(
    live_server, content, make_page, viewport
):
    merchant = factories.merchant(name="E2E 面馆")
    owner = factories.merchant_user(merchant=merchant)
    ticket = factories.ticket(
        merchant=merchant,
        user=owner,
        card_number=FULL_CARD,
        description=f"顾客的卡 {FULL_CARD} 刷了两次都被拒。",
    )
    agent = factories.agent(username="agent-li")
    desk = make_page(viewport=viewport)

    # The queue shows the new ticket.
    login(desk, live_server.url, agent, next_path="/desk/")
    assert desk.url == live_server.url + "/desk/"
    row = desk.locator("table.desk-table tbody tr").filter(has_text=ticket.number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("未分配")
    check_page(desk)

    # Assigns it to herself.
    with desk.expect_navigation():
        press(desk, row.get_by_role("link", name=ticket.number))
    expect(desk.get_by_role("heading", level=1)).to_have_text(ticket.number)
    expect(desk.locator(".desk-facts")).to_contain_text(MASKED_CARD)
    assert FULL_CARD not in desk.content()
    check_page(desk)
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="指派给我"))
    expect(desk.locator("#assign").locator("xpath=..")).to_contain_text("当前处理人：agent-li")

    # An internal note and a public reply.
    desk.get_by_label("内部备注").fill(NOTE)
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="保存内部备注"))
    desk.get_by_label("回复商户").fill(REPLY)
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="发送回复"))
    conversation = desk.locator("ol.desk-conversation")
    expect(conversation.locator(".desk-message-internal")).to_contain_text(NOTE)
    expect(conversation.locator(".desk-message-public")).to_contain_text(REPLY)
    check_page(desk)

    # The merchant logs in and sees the reply, never the note.
    shop = make_page(viewport=viewport)
    login(shop, live_server.url, owner, next_path=f"/tickets/{ticket.number}/")
    assert shop.url == f"{live_server.url}/tickets/{ticket.number}/"
    timeline = shop.locator("ol.tk-timeline")
    expect(timeline).to_contain_text(REPLY)
    assert NOTE not in shop.content()
    assert "内部" not in timeline.inner_text()
    check_page(shop)

    # The agent escalates it in a batch.
    with desk.expect_navigation():
        press(desk, desk.get_by_role("link", name="← 工单队列"))
    desk.get_by_role("checkbox", name=f"选择 {ticket.number}").check()
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="提交银行（创建批次）"))
    expect(desk.get_by_role("heading", level=1)).to_have_text("创建银行升级批次")
    expect(desk.locator("table.desk-table")).to_contain_text(ticket.number)
    check_page(desk)
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="创建草稿批次"))
    batch = EscalationBatch.objects.get()
    expect(desk.get_by_role("heading", level=1)).to_have_text(batch.number)
    check_page(desk)

    # … downloads the CSV: the columns banks expect, the masked card, never the full number.
    with desk.expect_download() as download_info:
        press(desk, desk.get_by_role("link", name="下载 CSV（Excel 可直接打开）"))
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    raw = Path(download.path()).read_bytes()
    text = raw.decode("utf-8-sig")
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, so that Excel reads the Chinese"
    assert FULL_CARD not in text
    rows = list(csv.reader(io.StringIO(text)))
    with translation.override("zh-hans"):
        expected_header = [str(label) for _key, label in export_columns()]
    assert rows[0] == expected_header
    assert len(rows) == 2
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["工单号"] == ticket.number
    assert record["卡号（已遮蔽）"] == MASKED_CARD
    assert record["商户号（MID）"] == merchant.mid
    assert record["应答码"] == "51"
    assert MASKED_CARD in record["情况说明"]

    # Sent to the bank: the merchant's ticket follows.
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="标记为已发送"))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.ESCALATED
    shop.reload()
    expect(shop.locator(".tk-head")).to_contain_text(ticket.get_status_display())
    check_page(shop)
