"""Bank escalation settings (issue 17 A): contacts, working hours, notes, and the file template
as data — ours by default, a fen/GBK CSV and an English XLSX with YYYYMMDD HHMMSS dates."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from diagnosis.escalations.exports import (
    DEFAULT_COLUMNS,
    escalation_csv,
    escalation_file,
    export_columns,
)
from diagnosis.escalations.services import escalation_create
from diagnosis.models import EscalationTemplate
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db


def template(code):
    return EscalationTemplate.objects.get(code=code)


def batch_for(bank, agent, count=2, **ticket_kwargs):
    shop = factories.merchant(acquirer=bank)
    when = timezone.make_aware(datetime(2026, 11, 30, 14, 5, 9))
    tickets = [
        make_ticket(merchant=shop, transaction_time=when, **ticket_kwargs) for _ in range(count)
    ]
    return escalation_create(actor=agent, tickets=tickets)


def test_three_templates_are_installed_and_ours_is_the_default():
    assert set(EscalationTemplate.objects.values_list("code", flat=True)) >= {
        "declinedesk",
        "fen-gbk-csv",
        "english-xlsx",
    }
    bank = factories.bank()
    assert EscalationTemplate.for_bank(bank).code == "declinedesk"
    assert [key for key, _h in export_columns(EscalationTemplate.for_bank(bank))] == (
        DEFAULT_COLUMNS
    )


def test_the_fen_template_writes_gbk_with_amounts_in_fen(agent):
    bank = factories.bank(escalation_template=template("fen-gbk-csv"))
    batch = batch_for(bank, agent, amount=Decimal("128.50"), card_masked="622848******1234")
    content, mime, name = escalation_file(batch, bank.escalation_template)
    assert name == f"{batch.number}.csv" and "gbk" in mime
    rows = list(csv.reader(io.StringIO(content.decode("gbk"))))
    assert rows[0][:5] == ["申请编号", "商户编号", "终端编号", "交易日期时间", "交易金额（分）"]
    assert rows[1][4] == "12850" and rows[1][5] == "622848******1234"
    assert rows[1][3] == "2026-11-30 14:05:09"
    assert len(rows) == 3


def test_the_english_template_writes_xlsx_with_compact_dates(agent):
    bank = factories.bank(escalation_template=template("english-xlsx"))
    batch = batch_for(bank, agent, count=1, amount=Decimal("9.90"))
    content, mime, name = escalation_file(batch, bank.escalation_template)
    assert name.endswith(".xlsx") and "spreadsheetml" in mime
    sheet = load_workbook(io.BytesIO(content)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:6] == [
        "Case Ref",
        "Merchant ID",
        "Merchant Name",
        "Terminal ID",
        "Txn Date Time",
        "Amount",
    ]
    row = [cell.value for cell in sheet[2]]
    assert row[4] == "20261130 140509" and row[5] == pytest.approx(9.9)
    assert row[0] == batch.items.get().ticket.number


def test_a_full_card_number_never_reaches_any_template(agent):
    for code in ("declinedesk", "fen-gbk-csv", "english-xlsx"):
        bank = factories.bank(escalation_template=template(code))
        batch = batch_for(bank, agent, count=1, description="卡号 6222 0212 3456 7890 123 被拒")
        content, _mime, _name = escalation_file(batch, bank.escalation_template)
        csv_text = escalation_csv(batch, bank.escalation_template).decode("gbk", "replace")
        for text in (csv_text, content.decode("latin-1")):
            assert "6222021234567890123" not in text.replace(" ", "")


def test_template_columns_and_formats_are_validated():
    bad = EscalationTemplate(
        code="bad", name="Bad", columns=["ticket_number", "pan", "ticket_number"]
    )
    with pytest.raises(ValidationError) as error:
        bad.full_clean()
    assert "pan" in str(error.value) and "ticket_number" in str(error.value)


def test_bank_contacts_and_time_zone_are_validated():
    bank = factories.bank()
    bank.escalation_cc = "ops@bank.example, not-an-address"
    bank.time_zone = "Mars/Base"
    with pytest.raises(ValidationError) as error:
        bank.full_clean()
    assert set(error.value.message_dict) == {"escalation_cc", "time_zone"}
    bank.escalation_cc = "ops@bank.example；risk@bank.example\nlead@bank.example"
    bank.time_zone = "Asia/Hong_Kong"
    bank.full_clean()
    assert bank.escalation_cc_list == ["ops@bank.example", "risk@bank.example", "lead@bank.example"]


def test_the_batch_page_shows_what_the_agent_needs_to_know(
    client, agent, django_assert_max_num_queries
):
    bank = factories.bank(
        escalation_email="disputes@bank.example",
        escalation_cc="ops@bank.example",
        escalation_template=template("english-xlsx"),
        agent_notes="周五下午不处理调单",
    )
    batch = batch_for(bank, agent, count=3)
    factories.sign_in(client, agent)
    url = reverse("diagnosis:escalation_detail", args=[batch.number])
    with django_assert_max_num_queries(12) as queries:
        body = client.get(url).content.decode()
    small = len(queries)
    for text in (
        "disputes@bank.example",
        "ops@bank.example",
        "周五下午不处理调单",
        "English headers",
    ):
        assert text in body
    assert "09:00–17:30 (Asia/Shanghai)" in body
    batch_for(bank, agent, count=5)  # more batches and tickets do not add queries
    with django_assert_max_num_queries(small):
        client.get(url)
