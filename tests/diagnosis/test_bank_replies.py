"""Reading the bank's answers back in (issue 17 C): the shipped sample files of every template
(CSV UTF-8, CSV GBK in fen, XLSX in both languages) through `manage.py import_bank_replies`,
the preview buckets, one transaction, masked cards, idempotent re-import, a broken file."""

from datetime import datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from diagnosis.escalations import replies
from diagnosis.escalations.services import (
    escalation_create,
    escalation_mark_sent,
    escalation_replies_apply,
)
from diagnosis.models import (
    AuditEvent,
    EscalationBatch,
    EscalationItem,
    EscalationTemplate,
    Ticket,
    TicketEvent,
)
from tests import factories
from tests.diagnosis.desk_support import make_ticket

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "diagnosis" / "escalations" / "samples"
SAMPLE_TICKETS = [
    ("DD-2026-000901", "10000901", "612345000901", Decimal("128.50")),
    ("DD-2026-000902", "10000902", "612345000902", Decimal("59.00")),
    ("DD-2026-000903", "10000903", "612345000903", Decimal("1200.00")),
]


def sent_batch(agent, template="declinedesk", *, english_merchant=False):
    bank = factories.bank(
        code=f"bank-{template}",
        name_zh="示例银行",
        name_en="Sample Bank",
        escalation_template=EscalationTemplate.objects.get(code=template),
    )
    shop = factories.merchant(acquirer=bank)
    owner = factories.merchant_user(merchant=shop, language="en" if english_merchant else "zh-hans")
    when = timezone.make_aware(datetime(2026, 11, 30, 14, 5, 9))
    tickets = [
        make_ticket(
            merchant=shop,
            number=number,
            tid=tid,
            rrn=rrn,
            amount=amount,
            created_by=owner,
            transaction_time=when,
        )
        for number, tid, rrn, amount in SAMPLE_TICKETS
    ]
    batch = escalation_create(actor=agent, tickets=tickets)
    return escalation_mark_sent(batch=batch, actor=agent)


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("import_bank_replies", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


EXPECTED = {
    "declinedesk-reply.xlsx": ("declinedesk", ["refunded", "stands", "more_info"]),
    "declinedesk-reply.csv": ("declinedesk", ["refunded", "stands", "more_info"]),
    "fen-gbk-csv-reply.csv": ("fen-gbk-csv", ["refunded", "stands", "merchant"]),
    "english-xlsx-reply.xlsx": ("english-xlsx", ["refunded", "stands", "rejected"]),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sample_file_imports_into_its_batch(name, agent):
    template, outcomes = EXPECTED[name]
    batch = sent_batch(agent, template)
    path = str(SAMPLES / name)
    out, _err = run(path, "--bank", batch.acquirer.code, "--dry-run")
    assert "dry run, nothing written: matched 3, unmatched 0" in out
    assert not EscalationItem.objects.exclude(outcome="").exists()

    out, _err = run(path, "--bank", batch.acquirer.code, "--user", agent.username)
    assert "imported: matched 3" in out
    items = EscalationItem.objects.order_by("ticket__number")
    assert [item.outcome for item in items] == outcomes
    assert all(item.bank_reference and item.answered_at for item in items)
    statuses = [Ticket.objects.get(pk=item.ticket_id).status for item in items]
    expected_status = [replies.OUTCOME_STATUS[o] for o in outcomes]
    assert statuses == expected_status
    batch.refresh_from_db()
    assert batch.status == "answered" and batch.answered_at is not None
    # the merchant got one public reply per ticket
    assert TicketEvent.objects.filter(kind="reply", is_internal=False).count() == 3

    # the same file again changes nothing
    before = TicketEvent.objects.count()
    out, _err = run(path, "--bank", batch.acquirer.code, "--user", agent.username)
    assert "imported: matched 0, unmatched 0, ambiguous 0, answered 3" in out
    assert TicketEvent.objects.count() == before


def test_the_gbk_file_matches_by_rrn_tid_and_amount_in_fen_and_masks_the_card(agent):
    batch = sent_batch(agent, "fen-gbk-csv")
    data = (SAMPLES / "fen-gbk-csv-reply.csv").read_bytes()
    assert "6222 0212 3456 7890 123" in data.decode("gbk")  # the bank typed a full number
    parsed = replies.read_reply_file(data, "x.csv", batch.acquirer.escalation_template)
    assert parsed.errors == []
    second = parsed.rows[1]
    assert second.ticket_number == "" and second.amount == "59.00"
    assert "62220212345678" not in repr(parsed.rows).replace(" ", "")
    entries = replies.classify(parsed.rows, list(batch.items.select_related("ticket")))
    assert [e.item.ticket.number for e in entries] == [n for n, *_r in SAMPLE_TICKETS]


def test_a_broken_file_is_reported_line_by_line_and_nothing_is_written(agent):
    batch = sent_batch(agent)
    with pytest.raises(CommandError, match="3 error"):
        run(str(SAMPLES / "broken-reply.csv"), "--bank", batch.acquirer.code)
    parsed = replies.read_reply_file((SAMPLES / "broken-reply.csv").read_bytes(), "b.csv")
    assert [line for line, _m in parsed.errors] == [2, 3, 4]
    assert "maybe later" in parsed.errors[0][1]
    assert "abc" in parsed.errors[1][1]
    assert "没有填写处理结果" in parsed.errors[2][1]
    assert not EscalationItem.objects.exclude(outcome="").exists()


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01\x02garbage", b"PK\x03\x04 not really a zip", "只有一行".encode("gbk")],
)
def test_files_that_are_not_tables_give_a_message(content):
    parsed = replies.read_reply_file(content, "reply.csv")
    assert parsed.rows == [] and parsed.errors and parsed.errors[0][1]


def test_preview_buckets_unmatched_ambiguous_conflict_and_answered(agent):
    batch = sent_batch(agent)
    first, second, third = batch.items.order_by("ticket__number")
    first.outcome, first.bank_reference = "refunded", "R-1"
    first.save()
    second.outcome, second.bank_reference = "stands", "R-2"
    second.save()
    rows = [
        replies.ReplyRow(line=2, ticket_number=first.ticket.number, reference="R-1",
                         outcome="refunded"),
        replies.ReplyRow(line=3, ticket_number=second.ticket.number, reference="R-9",
                         outcome="refunded"),
        replies.ReplyRow(line=4, ticket_number="DD-2026-999999", outcome="refunded"),
        replies.ReplyRow(line=5, ticket_number=third.ticket.number, outcome="merchant"),
        replies.ReplyRow(line=6, ticket_number=third.ticket.number, outcome="merchant"),
    ]  # fmt: skip
    entries = escalation_replies_apply(actor=agent, bank=batch.acquirer, rows=rows, batch=batch)
    assert [e.status for e in entries] == ["answered", "conflict", "unmatched", "matched",
                                           "ambiguous"]  # fmt: skip
    second.refresh_from_db()
    assert second.outcome == "stands" and second.bank_reference == "R-2"  # conflict untouched
    assert EscalationBatch.objects.get().status == "answered"
    assert AuditEvent.objects.filter(action="escalation.replies_imported").exists()


def test_an_error_half_way_rolls_everything_back(agent, monkeypatch):
    batch = sent_batch(agent)
    rows = [
        replies.ReplyRow(line=n + 2, ticket_number=number, reference=f"R{n}", outcome="refunded")
        for n, (number, *_rest) in enumerate(SAMPLE_TICKETS)
    ]
    from diagnosis.tickets import services as ticket_services

    calls = []

    def failing(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return original(**kwargs)

    original = ticket_services.ticket_change_status
    monkeypatch.setattr(ticket_services, "ticket_change_status", failing)
    with pytest.raises(RuntimeError):
        escalation_replies_apply(actor=agent, bank=batch.acquirer, rows=rows, batch=batch)
    assert not EscalationItem.objects.exclude(outcome="").exists()
    assert set(Ticket.objects.values_list("status", flat=True)) == {"escalated"}


def test_the_merchant_reply_is_in_the_merchants_language(agent):
    batch = sent_batch(agent, english_merchant=True)
    number = SAMPLE_TICKETS[0][0]
    rows = [replies.ReplyRow(line=2, ticket_number=number, reference="R-77", outcome="refunded")]
    escalation_replies_apply(actor=agent, bank=batch.acquirer, rows=rows, batch=batch)
    reply = TicketEvent.objects.get(kind="reply", ticket__number=number)
    assert reply.body.startswith("Sample Bank has checked this transaction")
    assert "R-77" in reply.body
