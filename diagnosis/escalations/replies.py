"""Reading a bank's answer file back in (issue 17 C): parse, match, preview.

The bank sends our batch file back (or its own sheet) with one row per case: our ticket number
when it kept it, the bank's reference and its outcome. This module only reads:

- `read_reply_file(data, filename, template)`: CSV (UTF-8 or GBK) or XLSX (openpyxl) into
  `ReplyRow`s and line-numbered errors. Every cell is scrubbed as it is read, so a full card
  number in the bank's file is masked before anything else sees it. Headers are recognised in
  both languages, in the bank template's own words, and by a few common aliases; amounts in fen
  when the template or the header says so.
- `classify(rows, items)`: each row against the escalation items it may answer: matched (by
  ticket number, else RRN + TID + amount), unmatched, ambiguous, already answered (the same
  answer is recorded: a re-import changes nothing), conflicting (a different answer is
  recorded), or blocked (the ticket's status cannot take the answer).

Writing is `diagnosis.escalations.services.escalation_replies_apply`, in one transaction.
"""

import csv
import io
import re
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext as _

from diagnosis.core.cards import scrub_text
from diagnosis.escalations.exports import COLUMNS, _column_spec
from diagnosis.models import BankOutcome, Ticket
from diagnosis.tickets import workflow

MAX_ROWS = 2000
MAX_BYTES = 5 * 1024 * 1024

# Header words banks use besides ours (compared without spaces, brackets or case).
HEADER_ALIASES = {
    "ticket_number": ["工单号", "申请编号", "我方编号", "caseref", "casereference", "ticketno",
                      "ticketnumber", "ourref"],
    "bank_reference": ["银行受理号", "受理编号", "受理号", "bankref", "bankreference",
                       "reference"],
    "outcome": ["处理结果", "结果", "outcome", "result"],
    "bank_comment": ["银行说明", "处理说明", "备注", "remarks", "remark", "comment", "comments"],
    "rrn": ["参考号", "检索参考号", "rrn", "referencenumber"],
    "tid": ["终端号", "终端编号", "terminalid", "tid"],
    "amount": ["金额", "交易金额", "amount", "txnamount"],
    "card_masked": ["卡号", "cardno", "cardnumber", "pan"],
}  # fmt: skip

# Outcome words (compared like headers); the labels of BankOutcome in both languages count too.
OUTCOME_ALIASES = {
    BankOutcome.REFUNDED: ["refunded", "reversed", "refund", "reversal", "已退款", "已冲正",
                           "退款", "冲正", "退货"],
    BankOutcome.CHARGE_STANDS: ["stands", "chargestands", "valid", "交易有效", "扣款成立",
                                "持卡人原因", "交易成功"],
    BankOutcome.MERCHANT_ACTS: ["merchant", "merchantmustact", "merchantaction",
                                "需商户处理", "商户处理"],
    BankOutcome.MORE_INFO: ["moreinfo", "needsmoreinformation", "moreinformation",
                            "需补充材料", "补充材料", "资料不全"],
    BankOutcome.REJECTED: ["rejected", "reject", "declined", "拒绝", "银行拒绝受理", "不予受理"],
}  # fmt: skip

# Where each answer leaves the ticket (through ticket_change_status).
OUTCOME_STATUS = {
    BankOutcome.REFUNDED: Ticket.Status.RESOLVED,
    BankOutcome.CHARGE_STANDS: Ticket.Status.RESOLVED,
    BankOutcome.MERCHANT_ACTS: Ticket.Status.WAITING_MERCHANT,
    BankOutcome.MORE_INFO: Ticket.Status.WAITING_MERCHANT,
    BankOutcome.REJECTED: Ticket.Status.RESOLVED,
}

_SQUEEZE = re.compile(r"[\s()（）\[\]【】/_\-:：.]+")


def _norm(text) -> str:
    return _SQUEEZE.sub("", str(text or "")).casefold()


@dataclass
class ReplyRow:
    line: int
    ticket_number: str = ""
    rrn: str = ""
    tid: str = ""
    amount: str = ""  # Decimal yuan as text ("" when the file has none)
    reference: str = ""
    outcome: str = ""
    comment: str = ""


@dataclass
class ParsedFile:
    rows: list = field(default_factory=list)
    errors: list = field(default_factory=list)  # (line, message)

    def as_data(self) -> list[dict]:
        return [asdict(row) for row in self.rows]


def rows_from_data(data: list[dict]) -> list[ReplyRow]:
    return [ReplyRow(**{k: str(v) if k != "line" else int(v) for k, v in row.items()})
            for row in data]  # fmt: skip


# --- reading ---------------------------------------------------------------------------------


def _cell(value) -> str:
    """A cell as text, scrubbed (a full card number is masked here, on read)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.strftime("%Y-%m-%d %H:%M:%S")
    elif isinstance(value, date):
        value = value.isoformat()
    return scrub_text(str(value).strip())


def _table(data: bytes, filename: str) -> list[list[str]]:
    """Rows of cells (scrubbed text) of the first sheet or the CSV. Raises ValueError."""
    if data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
            raise ValueError(_("无法打开这个 Excel 文件。")) from error
        try:
            sheet = workbook.worksheets[0]
            table = []
            for row in sheet.iter_rows(values_only=True):
                table.append([_cell(value) for value in row])
                if len(table) > MAX_ROWS + 1:
                    break
            return table
        finally:
            workbook.close()
    if filename.lower().endswith((".xls", ".xlsx")):
        raise ValueError(_("只支持 .xlsx 格式的 Excel 文件（旧版 .xls 请另存为 .xlsx 或 CSV）。"))
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(_("无法识别文件编码：CSV 请使用 UTF-8 或 GBK。"))
    if "\x00" in text:
        raise ValueError(_("这不是 CSV 或 XLSX 文件。"))
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [[_cell(value) for value in row] for row in csv.reader(io.StringIO(text), dialect)]


def header_map(header: list[str], template=None) -> tuple[dict, set]:
    """(column index → key, keys whose amounts are in fen per header)."""
    aliases = {}
    for key, label in COLUMNS.items():
        for language in ("zh-hans", "en"):
            with translation.override(language):
                aliases.setdefault(_norm(str(label)), key)
    for key, words in HEADER_ALIASES.items():
        for word in words:
            aliases.setdefault(_norm(word), key)
    if template is not None:
        for key, own in map(_column_spec, template.columns or []):
            if own:
                aliases[_norm(own)] = key
    mapping, fen = {}, set()
    for index, text in enumerate(header):
        key = aliases.get(_norm(text))
        if key and key not in mapping.values():
            mapping[index] = key
            if key == "amount" and re.search(r"分|fen|cent", text, re.IGNORECASE):
                fen.add(key)
    return mapping, fen


def parse_outcome(text: str) -> str | None:
    wanted = _norm(text)
    if not wanted:
        return None
    for outcome in BankOutcome:
        if wanted == _norm(outcome.value):
            return outcome.value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                if wanted == _norm(str(outcome.label)):
                    return outcome.value
        if wanted in {_norm(word) for word in OUTCOME_ALIASES[outcome]}:
            return outcome.value
    return None


def parse_amount(text: str, *, fen: bool) -> Decimal | None:
    cleaned = re.sub(r"[,，¥￥\s]|CNY|RMB|元", "", text or "", flags=re.IGNORECASE)
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation as error:
        raise ValueError(text) from error
    if not value.is_finite() or value < 0:
        raise ValueError(text)
    return (value / 100 if fen else value).quantize(Decimal("0.01"))


def read_reply_file(data: bytes, filename: str = "", template=None) -> ParsedFile:
    parsed = ParsedFile()
    if len(data) > MAX_BYTES:
        parsed.errors.append((0, _("文件太大（最大 5 MB）。")))
        return parsed
    try:
        table = _table(data, filename)
    except ValueError as error:
        parsed.errors.append((0, str(error)))
        return parsed
    except Exception:  # noqa: BLE001 - a damaged file must give a message, never a 500
        parsed.errors.append((0, _("无法读取这个文件。")))
        return parsed
    # The header is the first row that names an outcome column (banks put titles above it).
    start = next(
        (
            i
            for i, row in enumerate(table[:10])
            if "outcome" in header_map(row, template)[0].values()
        ),
        None,
    )
    if start is None:
        parsed.errors.append((1, _("找不到“处理结果”列：请保留表头，并在每行填写银行的处理结果。")))
        return parsed
    mapping, fen_headers = header_map(table[start], template)
    keys = set(mapping.values())
    if "ticket_number" not in keys and not {"rrn", "tid", "amount"} <= keys:
        parsed.errors.append((start + 1, _("需要“工单号”列，或者“参考号”“终端号”“金额”三列。")))
        return parsed
    fen = "amount" in fen_headers or getattr(template, "amount_unit", "yuan") == "fen"
    body = table[start + 1 :]
    if len(body) > MAX_ROWS:
        parsed.errors.append((0, _("一次最多导入 %(max)d 行。") % {"max": MAX_ROWS}))
        return parsed
    for offset, cells in enumerate(body):
        line = start + 2 + offset
        values = {key: cells[i] if i < len(cells) else "" for i, key in mapping.items()}
        if not any(values.values()):
            continue  # an empty line
        row = ReplyRow(
            line=line,
            ticket_number=values.get("ticket_number", "").upper(),
            rrn=values.get("rrn", ""),
            tid=values.get("tid", "").upper(),
            reference=values.get("bank_reference", "")[:60],
            comment=values.get("bank_comment", "")[:1000],
        )
        problems = []
        outcome = parse_outcome(values.get("outcome", ""))
        if outcome is None:
            problems.append(
                _("处理结果“%(value)s”无法识别") % {"value": values.get("outcome", "")}
                if values.get("outcome")
                else _("没有填写处理结果")
            )
        row.outcome = outcome or ""
        try:
            amount = parse_amount(values.get("amount", ""), fen=fen)
            row.amount = "" if amount is None else str(amount)
        except ValueError:
            problems.append(_("金额“%(value)s”不是数字") % {"value": values.get("amount", "")})
        if not row.ticket_number and not (row.rrn and row.tid and row.amount):
            problems.append(_("没有工单号，参考号、终端号和金额也不全"))
        if problems:
            parsed.errors.append((line, "；".join(problems)))
        else:
            parsed.rows.append(row)
    if not parsed.rows and not parsed.errors:
        parsed.errors.append((start + 1, _("文件里没有答复行。")))
    return parsed


# --- matching --------------------------------------------------------------------------------

MATCHED, UNMATCHED, AMBIGUOUS, ANSWERED, CONFLICT, BLOCKED = (
    "matched",
    "unmatched",
    "ambiguous",
    "answered",
    "conflict",
    "blocked",
)
STATUS_ORDER = [MATCHED, UNMATCHED, AMBIGUOUS, ANSWERED, CONFLICT, BLOCKED]


@dataclass
class Entry:
    row: ReplyRow
    status: str
    item: object = None
    message: str = ""

    @property
    def outcome_label(self):
        return BankOutcome(self.row.outcome).label if self.row.outcome else ""


def status_labels() -> dict:
    return {
        MATCHED: _("将写入"),
        UNMATCHED: _("未匹配"),
        AMBIGUOUS: _("无法确定"),
        ANSWERED: _("已答复（相同）"),
        CONFLICT: _("答复冲突"),
        BLOCKED: _("状态不允许"),
    }


def _pick(candidates):
    """Prefer the items still waiting for an answer; one left → it."""
    if len(candidates) > 1:
        waiting = [item for item in candidates if not item.outcome]
        candidates = waiting or candidates
    return candidates


def classify(rows, items) -> list[Entry]:
    """Each row against `items` (EscalationItem with ticket loaded)."""
    by_number, by_txn = {}, {}
    for item in items:
        ticket = item.ticket
        by_number.setdefault(ticket.number.upper(), []).append(item)
        by_txn.setdefault((ticket.rrn, ticket.tid.upper(), f"{ticket.amount:.2f}"), []).append(item)
    taken = {}
    entries = []
    for row in rows:
        if row.ticket_number:
            candidates = _pick(by_number.get(row.ticket_number, []))
            how = row.ticket_number
        else:
            candidates = _pick(by_txn.get((row.rrn, row.tid, row.amount), []))
            how = f"RRN {row.rrn} / TID {row.tid} / {row.amount}"
        if not candidates:
            entries.append(Entry(row, UNMATCHED, message=_("找不到 %(what)s") % {"what": how}))
            continue
        if len(candidates) > 1:
            entries.append(
                Entry(
                    row,
                    AMBIGUOUS,
                    message=_("%(what)s 对应 %(count)d 张工单")
                    % {"what": how, "count": len(candidates)},
                )
            )
            continue
        item = candidates[0]
        if item.pk in taken:
            entries.append(
                Entry(
                    row,
                    AMBIGUOUS,
                    item,
                    _("与第 %(line)d 行是同一张工单") % {"line": taken[item.pk]},
                )
            )
            continue
        taken[item.pk] = row.line
        if item.outcome:
            same = item.outcome == row.outcome and (
                not row.reference or item.bank_reference == row.reference
            )
            if same:
                entries.append(Entry(row, ANSWERED, item))
            else:
                entries.append(
                    Entry(
                        row,
                        CONFLICT,
                        item,
                        _("已记录：%(outcome)s %(reference)s")
                        % {
                            "outcome": item.get_outcome_display(),
                            "reference": item.bank_reference,
                        },
                    )
                )
            continue
        target = OUTCOME_STATUS[row.outcome]
        ticket = item.ticket
        if ticket.status != target and not workflow.can_transition(ticket, workflow.AGENT, target):
            entries.append(
                Entry(
                    row,
                    BLOCKED,
                    item,
                    _("工单当前为“%(status)s”，不能改为“%(target)s”")
                    % {"status": ticket.get_status_display(), "target": target.label},
                )
            )
            continue
        entries.append(Entry(row, MATCHED, item))
    return entries


def summary(entries) -> dict:
    counts = dict.fromkeys(STATUS_ORDER, 0)
    for entry in entries:
        counts[entry.status] += 1
    return counts
