"""Batch exports: CSV (UTF-8 BOM) and XLSX bytes, columns, masked card only, printable page."""

import csv
import io
import re
import zipfile
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from diagnosis.escalations.exports import escalation_csv, escalation_xlsx
from diagnosis.escalations.services import (
    escalation_create,
    escalation_mark_sent,
    escalation_set_bank_reference,
)
from diagnosis.models import Ticket
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db
FULL_CARD = "6228480402564890018"  # UnionPay, passes Luhn
VISA = "4111 1111 1111 1111"
HEADER_ZH = [
    "商户号（MID）",
    "商户名称",
    "终端号（TID）",
    "交易时间（北京时间）",
    "金额",
    "币种",
    "卡号（已遮蔽）",
    "应答码",
    "参考号（RRN）",
    "凭证号",
    "批次号",
    "情况说明",
    "银行受理号",
    "工单号",
]


@pytest.fixture
def batch(agent):
    bank = factories.bank(name_zh="中国银行", name_en="Bank of China")
    shop = factories.merchant(acquirer=bank, name="老王便利店", mid="898310000000123")
    first = make_ticket(
        merchant=shop,
        tid="0A123456",
        transaction_time=datetime(2026, 3, 1, 23, 30, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
        amount=Decimal("1288.00"),
        card_masked="622848*********0018",
        response_code="51",
        rrn="000123456789",
        trace_number="000321",
        batch_number="000777",
        description="顾客刷卡被拒，\n重试两次",
    )
    # A full card number sneaked into the stored data (e.g. an old import): exports mask it.
    second = make_ticket(
        merchant=shop,
        card_masked=FULL_CARD,
        description=f'=HYPERLINK("x") 卡号 {FULL_CARD} / {VISA}',
    )
    batch = escalation_create(actor=agent, tickets=[first, second])
    escalation_mark_sent(batch=batch, actor=agent)
    escalation_set_bank_reference(item=batch.items.first(), reference="BOC-REF-1")
    return batch


def csv_rows(data: bytes):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))


def assert_no_full_card(text: str):
    assert FULL_CARD not in text
    assert "4111111111111111" not in re.sub(r"[ -]", "", text)


def test_csv_bytes_bom_header_and_values(batch):
    data = escalation_csv(batch)
    assert b"\r\n" in data
    rows = csv_rows(data)
    assert rows[0] == HEADER_ZH
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["商户号（MID）"] == "898310000000123"
    assert first["商户名称"] == "老王便利店"
    assert first["终端号（TID）"] == "0A123456"
    assert first["交易时间（北京时间）"] == "2026-03-01 23:30:05"
    assert first["金额"] == "1288.00"
    assert first["币种"] == "CNY"
    assert first["卡号（已遮蔽）"] == "622848*********0018"
    assert first["应答码"] == "51"
    assert first["参考号（RRN）"] == "000123456789"
    assert first["凭证号"] == "000321"
    assert first["批次号"] == "000777"
    assert first["情况说明"] == "顾客刷卡被拒， 重试两次"
    assert first["银行受理号"] == "BOC-REF-1"
    assert len(rows) == 3


def test_csv_masks_sneaked_full_card_numbers_and_formulas(batch):
    text = escalation_csv(batch).decode("utf-8-sig")
    assert_no_full_card(text)
    second = csv_rows(escalation_csv(batch))[2]
    assert second[6] == "622848*********0018"
    assert second[11].startswith("'=HYPERLINK")  # never run as a formula
    # Two numbers three characters apart are masked as one run: first 6 and last 4 remain.
    assert "卡号 622848*" in second[11] and second[11].endswith("1111")


def english_header():
    with translation.override("en"):
        return [translation.gettext(h) for h in HEADER_ZH]


def test_csv_headers_follow_the_language(batch):
    with translation.override("en"):
        rows = csv_rows(escalation_csv(batch))
    assert rows[0] == english_header()
    assert all(cell.isascii() for cell in rows[0])  # every header has an English translation
    assert rows[0][0] == "Merchant number (MID)"


def xlsx_sheet(data: bytes):
    """The only worksheet of an XLSX export, opened with openpyxl."""
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert len(workbook.worksheets) == 1
    return workbook.worksheets[0]


def xlsx_cells(data: bytes):
    """(the zip package, the cell values row by row; numbers as Decimal)."""
    package = zipfile.ZipFile(io.BytesIO(data))
    assert package.testzip() is None
    rows = [
        [Decimal(str(v)) if isinstance(v, int | float) else v for v in row]
        for row in xlsx_sheet(data).iter_rows(values_only=True)
    ]
    return package, rows


def test_xlsx_is_a_valid_workbook_with_the_same_columns(batch):
    data = escalation_xlsx(batch)
    assert data[:2] == b"PK"
    package, rows = xlsx_cells(data)
    assert rows[0] == HEADER_ZH
    assert rows[1][0] == "898310000000123"  # text: leading digits kept
    assert rows[1][4] == Decimal("1288.00")  # a real number
    assert rows[1][6] == "622848*********0018"
    assert rows[1][9] == "000321" and rows[1][8] == "000123456789"
    assert rows[1][3] == "2026-03-01 23:30:05"
    assert rows[1][11] == "顾客刷卡被拒， 重试两次" and rows[1][12] == "BOC-REF-1"
    assert len(rows) == 3
    sheet = xlsx_sheet(data)
    assert sheet.title == batch.number
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.b for cell in sheet[1])  # bold header
    assert sheet["E2"].data_type == "n" and sheet["E2"].number_format == "0.00"
    assert all(cell.data_type == "s" for cell in sheet[2] if cell.column != 5)
    everything = "".join(package.read(n).decode("utf-8") for n in package.namelist())
    assert_no_full_card(everything)


def test_xlsx_masks_sneaked_full_card_numbers_and_never_runs_formulas(batch):
    sheet = xlsx_sheet(escalation_xlsx(batch))
    card, description = sheet["G3"], sheet["L3"]
    assert card.value == "622848*********0018"
    # Text, never a formula: a string cell with the quote prefix (the CSV's apostrophe).
    assert description.data_type == "s" and description.quotePrefix
    assert description.value.startswith('=HYPERLINK("x")')
    # Two card numbers typed one after the other are masked as one run: neither survives.
    assert description.value.startswith('=HYPERLINK("x") 卡号 622848*')
    assert "6228480000000000018" not in description.value
    assert "4111111111111111" not in description.value
    assert description.value.endswith("1111")
    assert not sheet["A2"].quotePrefix  # only formula-like text is marked


def test_download_views(client, agent, batch):
    factories.sign_in(client, agent)
    response = client.get(reverse("diagnosis:escalation_export_csv", args=[batch.number]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{batch.number}.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert_no_full_card(response.content.decode("utf-8-sig"))
    response = client.get(reverse("diagnosis:escalation_export_xlsx", args=[batch.number]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "no-store" in response["Cache-Control"]
    xlsx_cells(response.content)


def test_english_download_has_english_headers(client, agent, batch):
    factories.sign_in(client, agent)
    response = client.get("/en" + reverse("diagnosis:escalation_export_csv", args=[batch.number]))
    assert csv_rows(response.content)[0] == english_header()


def test_printable_page(client, agent, batch):
    factories.sign_in(client, agent)
    response = client.get(reverse("diagnosis:escalation_print", args=[batch.number]))
    assert response.status_code == 200
    body = response.content.decode()
    for header in HEADER_ZH:
        assert header in body
    assert "老王便利店" in body and "2026-03-01 23:30:05" in body and "BOC-REF-1" in body
    assert "中国银行" in body
    assert_no_full_card(body)
    assert "data-print" in body and "<script>" not in body  # no inline script (CSP)


def test_print_css_hides_chrome():
    from pathlib import Path

    from django.conf import settings

    css = (Path(settings.BASE_DIR) / "static/css/app.css").read_text()
    block = css[css.index("@media print") :]
    assert ".site-header" in block and ".no-print" in block


def test_export_of_empty_batch_has_only_the_header(agent):
    ticket = make_ticket()
    batch = escalation_create(actor=agent, tickets=[ticket])
    batch.items.all().delete()
    assert csv_rows(escalation_csv(batch)) == [HEADER_ZH]
    assert xlsx_cells(escalation_xlsx(batch))[1] == [HEADER_ZH]


def test_ticket_fields_are_escaped_in_xlsx(agent):
    ticket = make_ticket(description='<b>"&\x01</b>')
    batch = escalation_create(actor=agent, tickets=[ticket])
    rows = xlsx_cells(escalation_xlsx(batch))[1]
    assert rows[1][11] == '<b>"&</b>'
    assert Ticket.objects.count() == 1
