"""Escalation batch exports in the formats banks work with: CSV (UTF-8 with BOM) and XLSX.

Card data: the card column is the stored masked card (re-masked defensively), and every
free-text cell goes through `scrub_text` again, so no full card number can leave in an export.
CSV cells that a spreadsheet would run as a formula (=, +, -, @ …) get a leading apostrophe
(XLSX cells are typed inline strings, never formulas).
The XLSX writer is a minimal, dependency-free SpreadsheetML package (zipfile + XML).
"""

import csv
import io
import re
import zipfile
from datetime import datetime
from decimal import Decimal
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from diagnosis.core.cards import DIGIT_CHAR, mask_card_field, scrub_text

CSV_BOM = "\ufeff"
BEIJING = ZoneInfo("Asia/Shanghai")  # banks in China work in Beijing time, whatever TIME_ZONE is
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot carry at all.
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

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""  # noqa: E501

_ROOT_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>"""  # noqa: E501

_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""  # noqa: E501

# Style 0: default; 1: bold header; 2: number with two decimals.
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="2" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""  # noqa: E501


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _xml_text(value: str) -> str:
    return escape(XML_ILLEGAL.sub("", value), {'"': "&quot;"})


def _xlsx_cell(ref: str, value, style: int = 0) -> str:
    if isinstance(value, Decimal):
        return f'<c r="{ref}" s="2"><v>{value:.2f}</v></c>'
    text = _xml_text(_cell_text(value))
    style_attr = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{style_attr}><is><t xml:space="preserve">{text}</t></is></c>'


def xlsx_bytes(header: list[str], rows: list[list], sheet_name: str = "Sheet1") -> bytes:
    """A one-sheet workbook; text stays text (leading zeros of MID/RRN survive)."""
    header_cells = "".join(
        _xlsx_cell(f"{_column_letter(i)}1", text, 1) for i, text in enumerate(header)
    )
    lines = [f'<row r="1">{header_cells}</row>']
    for r, row in enumerate(rows, start=2):
        cells = "".join(_xlsx_cell(f"{_column_letter(i)}{r}", v) for i, v in enumerate(row))
        lines.append(f'<row r="{r}">{cells}</row>')
    widths = "".join(
        f'<col min="{i + 1}" max="{i + 1}" width="{min(60, max(10, len(h) * 2 + 4))}" customWidth="1"/>'  # noqa: E501
        for i, h in enumerate(header)
    )
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        f"<cols>{widths}</cols><sheetData>{''.join(lines)}</sheetData></worksheet>"
    )
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{_xml_text(sheet_name[:31])}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>"
    )
    created = timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    core = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
        'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        "<dc:creator>DeclineDesk</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
        "</cp:coreProperties>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("docProps/core.xml", core)
        package.writestr("xl/workbook.xml", workbook)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        package.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def escalation_xlsx(batch) -> bytes:
    columns = export_columns()
    rows = [[row[key] for key, _header in columns] for row in escalation_rows(batch)]
    return xlsx_bytes([header for _key, header in columns], rows, sheet_name=batch.number)


def export_filename(batch, extension: str) -> str:
    return f"{batch.number}.{extension}"
