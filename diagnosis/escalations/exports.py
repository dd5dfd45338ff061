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
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
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


# Every column a template may ask for: key → default header (a msgid; the template's header
# language picks the translation). "outcome" and "bank_comment" stay empty in our file: the
# bank fills them in its answer (diagnosis/escalations/replies.py reads them back).
COLUMNS = {
    "mid": gettext_lazy("商户号（MID）"),
    "merchant_name": gettext_lazy("商户名称"),
    "tid": gettext_lazy("终端号（TID）"),
    "transaction_time": gettext_lazy("交易时间（北京时间）"),
    "amount": gettext_lazy("金额"),
    "currency": gettext_lazy("币种"),
    "card_masked": gettext_lazy("卡号（已遮蔽）"),
    "response_code": gettext_lazy("应答码"),
    "rrn": gettext_lazy("参考号（RRN）"),
    "trace_number": gettext_lazy("凭证号"),
    "batch_number": gettext_lazy("批次号"),
    "description": gettext_lazy("情况说明"),
    "bank_reference": gettext_lazy("银行受理号"),
    "ticket_number": gettext_lazy("工单号"),
    "outcome": gettext_lazy("处理结果"),
    "bank_comment": gettext_lazy("银行说明"),
}
# Our own format (the default template; migration 0018 installs it as data too).
DEFAULT_COLUMNS = [
    "mid",
    "merchant_name",
    "tid",
    "transaction_time",
    "amount",
    "currency",
    "card_masked",
    "response_code",
    "rrn",
    "trace_number",
    "batch_number",
    "description",
    "bank_reference",
    "ticket_number",
]
DEFAULT_TEMPLATE = {
    "code": "declinedesk",
    "name": "DeclineDesk",
    "file_format": "xlsx",
    "header_language": "",
    "columns": DEFAULT_COLUMNS,
    "amount_unit": "yuan",
    "datetime_format": "%Y-%m-%d %H:%M:%S",
    "csv_encoding": "utf-8-sig",
}


def _column_spec(entry) -> tuple[str, str]:
    """(key, own header or "") of one entry of a template's column list."""
    if isinstance(entry, str):
        return entry, ""
    if isinstance(entry, dict):
        return str(entry.get("key", "")), str(entry.get("header", "") or "")
    return "", ""


def template_column_errors(columns) -> list[str]:
    """Why a template's column list cannot be used (empty when it can)."""
    if not isinstance(columns, list) or not columns:
        return [_("列必须是非空的列表。")]
    errors, seen = [], set()
    for entry in columns:
        key, _header = _column_spec(entry)
        if key not in COLUMNS:
            errors.append(_("未知的列：%(key)s") % {"key": key or repr(entry)})
        elif key in seen:
            errors.append(_("列重复：%(key)s") % {"key": key})
        seen.add(key)
    return errors


def export_columns(template=None):
    """(key, header) in export order; headers in the template's language (the active language
    when it has none), or the bank's own header where the template gives one."""
    spec = template.columns if template is not None else DEFAULT_COLUMNS
    language = getattr(template, "header_language", "") or translation.get_language()
    with translation.override(language):
        return [
            (key, header or str(COLUMNS[key]))
            for key, header in map(_column_spec, spec)
            if key in COLUMNS
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


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if value is None:
        return ""
    return timezone.localtime(value, timezone.get_default_timezone()).strftime(fmt)


def amount_value(amount, unit: str = "yuan"):
    """Decimal yuan, or whole fen as an int when the template wants fen."""
    if amount is None:
        return ""
    if unit == "fen":
        return int((Decimal(amount) * 100).to_integral_value())
    return amount


def escalation_rows(batch, template=None):
    """One dict per ticket of the batch, values already made safe for export."""
    fmt = getattr(template, "datetime_format", "") or "%Y-%m-%d %H:%M:%S"
    unit = getattr(template, "amount_unit", "yuan")
    items = batch.items.select_related("ticket", "ticket__merchant").order_by("pk")
    for item in items:
        ticket = item.ticket
        yield {
            "mid": ticket.merchant.mid,
            "merchant_name": safe_text(ticket.merchant.name),
            "tid": ticket.tid,
            "transaction_time": local_time(ticket.transaction_time, fmt),
            "amount": amount_value(ticket.amount, unit),
            "currency": ticket.currency,
            "card_masked": safe_card(ticket.card_masked),
            "response_code": ticket.response_code,
            "rrn": ticket.rrn,
            "trace_number": ticket.trace_number,
            "batch_number": ticket.batch_number,
            "description": safe_text(" ".join((ticket.description or "").split())),
            "bank_reference": safe_text(item.bank_reference),
            "ticket_number": ticket.number,
            "outcome": item.get_outcome_display() if item.outcome else "",
            "bank_comment": "",
        }


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)  # fen amounts are ints: no decimals


def escalation_csv(batch, template=None) -> bytes:
    """UTF-8 with a BOM (so Excel shows Chinese) or GBK when the bank's template says so, CRLF
    line ends, a header row."""
    columns = export_columns(template)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([header for _key, header in columns])
    for row in escalation_rows(batch, template):
        writer.writerow([csv_guard(_cell_text(row[key])) for key, _header in columns])
    if getattr(template, "csv_encoding", "utf-8-sig") == "gbk":
        return buffer.getvalue().encode("gbk", errors="replace")
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
    elif isinstance(value, int) and not isinstance(value, bool):  # an amount in fen
        cell.value = value
        cell.number_format = "0"
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


def escalation_xlsx(batch, template=None) -> bytes:
    columns = export_columns(template)
    rows = [[row[key] for key, _header in columns] for row in escalation_rows(batch, template)]
    return xlsx_bytes([header for _key, header in columns], rows, sheet_name=batch.number)


def escalation_file(batch, template) -> tuple[bytes, str, str]:
    """(content, MIME type, file name) of the batch in the template's own file type."""
    if template.file_format == "csv":
        charset = "gbk" if template.csv_encoding == "gbk" else "utf-8"
        return (
            escalation_csv(batch, template),
            f"text/csv; charset={charset}",
            export_filename(batch, "csv"),
        )
    return (
        escalation_xlsx(batch, template),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        export_filename(batch, "xlsx"),
    )


def export_filename(batch, extension: str) -> str:
    return f"{batch.number}.{extension}"
