"""Journey (issue 17): an agent sends a batch to the bank from the desk (the mail with the
batch file arrives at a real SMTP server), imports the bank's reply file with one unmatched row
and one conflict, checks the preview and confirms; the merchant sees the bank's answer and the
new status; the batch is answered; the insight page shows that bank's turnaround."""

import importlib
import io

import pytest
from django.apps import apps
from openpyxl import load_workbook
from playwright.sync_api import expect

from diagnosis.escalations.services import escalation_create
from diagnosis.models import EscalationBatch, EscalationItem, EscalationTemplate, Ticket
from tests import factories
from tests.diagnosis import smtp_support
from tests.diagnosis.smtp_support import attachment
from tests.e2e.conftest import DESKTOP
from tests.e2e.support import FULL_CARD, MASKED_CARD, check_page, login, press

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
smtp_server = smtp_support.smtp_server


@pytest.fixture(autouse=True)
def _shipped_templates():
    """The templates and outcome replies that migration 0021 installs: a transactional test
    before this one flushed the tables, so they are installed again the same way."""
    migration = importlib.import_module("diagnosis.migrations.0021_bank_escalation")
    migration.install(apps, None)


def test_agent_sends_a_batch_and_reads_the_banks_answers_back(
    live_server, make_page, smtp_server, tmp_path
):
    bank = factories.bank(
        code="e2e-bank",
        name_zh="端到端银行",
        name_en="E2E Bank",
        escalation_email="disputes@e2e-bank.example",
        escalation_template=EscalationTemplate.objects.get(code="declinedesk"),
    )
    merchant = factories.merchant(name="E2E 面馆", acquirer=bank)
    owner = factories.merchant_user(merchant=merchant)
    tickets = [
        factories.ticket(merchant=merchant, user=owner, card_number=FULL_CARD) for _ in range(3)
    ]
    agent = factories.agent(username="agent-wang")
    batch = escalation_create(actor=agent, tickets=tickets)

    # Send to bank: the mail carries the XLSX with masked cards only.
    desk = make_page(viewport=DESKTOP)
    login(desk, live_server.url, agent, next_path=f"/desk/escalations/{batch.number}/")
    expect(desk.locator("#bank-title")).to_contain_text("端到端银行")
    check_page(desk)
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="发送给银行"))
    expect(desk.locator(".desk-badges")).to_contain_text("已发送")
    # the other mails are the merchant's status notices (same SMTP server)
    to_bank = [(r, m) for r, m in smtp_server.messages if "disputes@e2e-bank.example" in r]
    ((recipients, message),) = to_bank
    assert recipients == ["disputes@e2e-bank.example"] and batch.number in message["Subject"]
    _name, content = attachment(message)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    assert sorted(row[-1] for row in rows) == sorted(t.number for t in tickets)
    assert {row[6] for row in rows} == {MASKED_CARD}
    assert FULL_CARD not in content.decode("latin-1")

    # Another agent already recorded an answer for the third ticket: a conflict.
    EscalationItem.objects.filter(ticket=tickets[2]).update(
        outcome="stands", bank_reference="OLD-3"
    )
    reply = tmp_path / "reply.csv"
    reply.write_text(
        "工单号,银行受理号,处理结果,银行说明\r\n"
        f"{tickets[0].number},BK-001,已退款,款项已退回\r\n"
        f"{tickets[1].number},BK-002,需商户处理,请重新签到终端\r\n"
        "DD-2099-999999,BK-404,已退款,\r\n"
        f"{tickets[2].number},BK-003,已退款,\r\n",
        encoding="gbk",
    )
    desk.get_by_label("银行答复文件").set_input_files(str(reply))
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="上传并预览"))
    expect(desk.get_by_role("heading", level=1)).to_have_text("银行答复预览")
    expect(desk.locator('[data-bucket="matched"]')).to_have_text("2")
    expect(desk.locator('[data-bucket="unmatched"]')).to_have_text("1")
    expect(desk.locator('[data-bucket="conflict"]')).to_have_text("1")
    check_page(desk)
    assert not EscalationItem.objects.filter(bank_reference="BK-001").exists()
    with desk.expect_navigation():
        press(desk, desk.get_by_role("button", name="确认写入 2 条答复"))
    expect(desk.locator(".desk-badges")).to_contain_text("银行已答复")
    assert EscalationBatch.objects.get().status == "answered"

    # The merchant sees the bank's answer and the new status.
    shop = make_page(viewport=DESKTOP)
    login(shop, live_server.url, owner, next_path=f"/tickets/{tickets[0].number}/")
    expect(shop.locator("ol.tk-timeline")).to_contain_text("BK-001")
    expect(shop.locator(".tk-head")).to_contain_text(str(Ticket.Status.RESOLVED.label))
    shop.goto(f"{live_server.url}/tickets/{tickets[1].number}/")
    expect(shop.locator(".tk-head")).to_contain_text(str(Ticket.Status.WAITING_MERCHANT.label))
    check_page(shop)

    # The insight page shows the bank's turnaround.
    desk.goto(f"{live_server.url}/desk/insight/")
    row = desk.locator("#turnaround-e2e-bank")
    expect(row).to_contain_text("端到端银行")
    expect(row.locator("td").first).to_have_text("1")
    check_page(desk)
