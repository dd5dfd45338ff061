"""Escalation batch exports in the formats banks work with: CSV (UTF-8 with BOM) and XLSX.

Card data: the card column is the stored masked card (re-masked defensively), and every
free-text cell goes through `scrub_text` again, so no full card number can leave in an export.
Cells that a spreadsheet would run as a formula (=, +, -, @ …) stay text: a leading apostrophe
in the CSV, a text cell with the quote prefix in the XLSX (written with openpyxl).
"""

import csv
import io
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from diagnosis.core.cards import DIGIT_CHAR, mask_card_field, scrub_text

CSV_BOM = "\ufeff"
BEIJING = ZoneInfo("Asia/Shanghai")  # banks in China work in Beijing time, whatever TIME_ZONE is
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 (so XLSX) cannot carry at all.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def export_columns():
    """(key, header) in export order; headers in the active language."""
    return [
        ("mid", _("商户号（MID）")),
        ("merchant_name", _("商户名称")),
        ("tid", _("终端号（TID）")),
        ("transaction_time", _("交易时间（北京时间）")),
        ("amount", _("金额")),
        ("currency", _("币种")),
        ("card_masked", _("卡号（已遮蔽）")),
        ("response_code", _("应答码")),
        ("rrn", _("参考号（RRN）")),
        ("trace_number", _("凭证号")),
        ("batch_number", _("批次号")),
        ("description", _("情况说明")),
        ("bank_reference", _("银行受理号")),
        ("ticket_number", _("工单号")),
    ]


def safe_card(value: str) -> str:
    """The masked card as stored; if a full number ever got in, it is masked here too."""
    value = value or ""
    try:
        return mask_card_field(value)
    except ValidationError:  # a bad stored value must neither leak nor fail the export
        # Last 4 digits at most: whatever it is, it is not a valid masked card.
        return DIGIT_CHAR.sub("*", scrub_text(value)[:-4]) + scrub_text(value)[-4:]


def safe_text(value: str) -> str:
    """Free text for an export: card numbers masked."""
    return scrub_text(value or "")


def csv_guard(text: str) -> str:
    """A CSV cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def local_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value, timezone.get_default_timezone()).strftime("%Y-%m-%d %H:%M:%S")


def escalation_rows(batch):
    """One dict per ticket of the batch, values already made safe for export."""
    items = batch.items.select_related("ticket", "ticket__merchant").order_by("pk")
    for item in items:
        ticket = item.ticket
        yield {
            "mid": ticket.merchant.mid,
            "merchant_name": safe_text(ticket.merchant.name),
            "tid": ticket.tid,
            "transaction_time": local_time(ticket.transaction_time),
            "amount": ticket.amount,
            "currency": ticket.currency,
            "card_masked": safe_card(ticket.card_masked),
            "response_code": ticket.response_code,
            "rrn": ticket.rrn,
            "trace_number": ticket.trace_number,
            "batch_number": ticket.batch_number,
            "description": safe_text(" ".join((ticket.description or "").split())),
            "bank_reference": safe_text(item.bank_reference),
            "ticket_number": ticket.number,
        }


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def escalation_csv(batch) -> bytes:
    """UTF-8 with a BOM (so Excel shows Chinese), CRLF line ends, a header row."""
    columns = export_columns()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _key, header in columns])
    for row in escalation_rows(batch):
        writer.writerow([csv_guard(_cell_text(row[key])) for key, _header in columns])
    return (CSV_BOM + buffer.getvalue()).encode("utf-8")


# --- XLSX ----------------------------------------------------------------------------------------

AMOUNT_FORMAT = "0.00"


def _xlsx_cell(sheet, value, *, bold=False):
    """A typed cell: Decimal → a number with two decimals; anything else → text, never a
    formula (openpyxl would store "=…" as one): a formula-like text gets the quote prefix,
    the spreadsheet's own "this is text" mark, like the CSV's apostrophe (`csv_guard`)."""
    cell = WriteOnlyCell(sheet)
    if isinstance(value, Decimal):
        cell.value = value
        cell.number_format = AMOUNT_FORMAT
    else:
        text = XML_ILLEGAL.sub("", _cell_text(value))
        cell.value = text
        cell.data_type = "s"
        cell.quotePrefix = text.startswith(FORMULA_START)
    if bold:
        cell.font = Font(bold=True)
    return cell


def xlsx_bytes(header: list[str], rows: list[list], sheet_name: str = "Sheet1") -> bytes:
    """A one-sheet workbook (openpyxl); text stays text (leading zeros of MID/RRN survive), the
    header row is bold and frozen."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=XML_ILLEGAL.sub("", sheet_name)[:31] or "Sheet1")
    sheet.freeze_panes = "A2"
    for index, text in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(
            60, max(10, len(text) * 2 + 4)
        )
    sheet.append([_xlsx_cell(sheet, text, bold=True) for text in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    workbook.properties.creator = "DeclineDesk"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def escalation_xlsx(batch) -> bytes:
    columns = export_columns()
    rows = [[row[key] for key, _header in columns] for row in escalation_rows(batch)]
    return xlsx_bytes([header for _key, header in columns], rows, sheet_name=batch.number)


def export_filename(batch, extension: str) -> str:
    return f"{batch.number}.{extension}"
