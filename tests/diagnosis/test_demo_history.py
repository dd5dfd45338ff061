"""The demo history behind `make run` (diagnosis/demo/history.py): what it holds, that it is built
once and deterministically, that --reset rebuilds it, that it is fast, that no demo text holds a
card number, and that nothing of it exists with DEBUG off.

Other tests call `seed_demo` with `history=False`: they must not depend on the random history.
"""

import re
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from diagnosis.accounts import demo
from diagnosis.demo import history
from diagnosis.insight import terminal_health
from diagnosis.models import (
    DemoHistory,
    EscalationBatch,
    EscalationItem,
    Incident,
    Merchant,
    Ticket,
    TicketEvent,
    User,
    WizardRun,
)
from diagnosis.tickets.sla import overdue_q
from knowledge.models import Announcement, ArticleVote

pytestmark = pytest.mark.django_db

# 13–19 digits, spaces or dashes between them allowed (PRODUCT.md's card-number rule).
CARD_RUN = re.compile(r"\d(?:[ \-]?\d){12,18}")
FIXED_NOW = datetime(2026, 11, 20, 7, 30, tzinfo=UTC)  # a Friday, 15:30 in Shanghai


def reference():
    call_command("load_knowledge", verbosity=0)
    call_command("load_wizard", verbosity=0)
    demo.seed_banks()
    demo.seed_merchants()
    demo.seed_accounts()


def demo_texts():
    """Every free text the history wrote (and the curated demo's)."""
    yield from Ticket.objects.values_list("description", flat=True)
    yield from Ticket.objects.values_list("card_masked", flat=True)
    yield from TicketEvent.objects.values_list("body", flat=True)
    yield from TicketEvent.objects.values_list("old_value", flat=True)
    yield from TicketEvent.objects.values_list("new_value", flat=True)
    yield from EscalationBatch.objects.values_list("note", flat=True)
    yield from EscalationItem.objects.values_list("bank_reference", flat=True)
    yield from ArticleVote.objects.values_list("comment", flat=True)
    yield from Merchant.objects.values_list("name", flat=True)
    for row in Announcement.objects.values_list("title_zh", "title_en", "body_zh", "body_en"):
        yield from row


def test_seed_demo_builds_a_believable_history_fast(settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    built = re.search(r"Demo history \(90 days\): .* built in ([\d.]+) s\.", text)
    assert built, text
    assert float(built.group(1)) < 15
    assert re.search(r"seed_demo took [\d.]+ s\.", text)

    now = timezone.now()
    tickets = Ticket.objects.all()
    assert 1800 <= tickets.count() <= 2300
    assert Merchant.objects.filter(mid__startswith=history.MID_PREFIX).count() == 40
    span = tickets.order_by("created_at").values_list("created_at", flat=True)
    assert now - span.first() > timedelta(days=88) and now - span.last() < timedelta(hours=2)
    # The code mix: 51 and 55 lead, 05/96/A0 regular, a long tail of rare codes.
    codes = dict(tickets.values_list("response_code").annotate(n=Count("pk")).order_by())
    ranked = sorted(codes, key=codes.get, reverse=True)
    assert ranked[:2] == ["51", "55"]
    assert {"05", "96", "A0"} <= set(ranked[:6])
    assert len(codes) >= 20 and min(codes.values()) < 10
    # Weekdays busier than Sundays.
    weekday = tickets.filter(created_at__week_day=4).count()  # Wednesday
    assert weekday > tickets.filter(created_at__week_day=1).count()

    # The queue at work: open, overdue and escalated tickets; SLA and resolution times.
    statuses = set(tickets.values_list("status", flat=True))
    assert statuses == {"new", "in_progress", "waiting_merchant", "escalated", "resolved", "closed"}
    assert tickets.filter(overdue_q(now)).count() >= 3
    assert tickets.filter(first_responded_at__gt=timezone.now() - timedelta(days=400)).count() > (
        1500
    )
    late = [
        t
        for t in tickets.exclude(first_responded_at=None)
        if t.first_responded_at > t.first_response_due
    ]
    assert 20 < len(late) < 600  # the SLA is mostly met, not always
    assert tickets.exclude(resolved_at=None).count() > 1500
    kinds = set(TicketEvent.objects.values_list("kind", flat=True))
    assert {"created", "assign", "status", "reply", "note", "escalated"} <= kinds
    assert TicketEvent.objects.filter(kind="reply", author__merchant__isnull=False).exists()

    # Batches in every state across banks; answered and closed ones carry the bank's references.
    batches = EscalationBatch.objects.all()
    assert set(batches.values_list("status", flat=True)) == {"draft", "sent", "answered", "closed"}
    assert batches.values("acquirer").distinct().count() >= 3
    for batch in batches.filter(status__in=["answered", "closed"]):
        assert batch.items.exists() and not batch.items.filter(bank_reference="").exists()
    assert tickets.filter(status="escalated", escalation_items__batch__status="sent").exists()

    # Past incidents (one within an announced maintenance window) and one current one.
    past = Incident.objects.filter(status="resolved")
    assert past.count() >= 2
    active = Incident.objects.active().get()
    assert active.tickets.count() >= 5 and active.started_at > now - timedelta(hours=1)
    assert active.tickets.values("merchant").distinct().count() >= settings.INCIDENT_MIN_MERCHANTS
    window = Announcement.objects.get(ends_at__lt=now)  # the past window (one ahead is seeded too)
    assert past.filter(
        acquirer=window.bank, started_at__gte=window.starts_at, started_at__lt=window.ends_at
    ).exists()

    # A terminal declining many different cards within the hour.
    recent = tickets.filter(created_at__gte=now - timedelta(hours=1))
    assert terminal_health.flagged_for_tickets(recent)

    # The wizard and the articles were used.
    runs = WizardRun.objects.all()
    assert runs.count() >= 20_000
    assert runs.filter(solved=True).exists() and runs.filter(solved=False).exists()
    assert ArticleVote.objects.exclude(comment="").exists()

    # merchant-a sees a history of their own; the curated demo tickets are still there.
    merchant_a = User.objects.get(username="merchant-a").merchant
    assert Ticket.objects.filter(merchant=merchant_a).count() > 20
    assert Ticket.objects.filter(merchant=merchant_a, rrn="512345678901").exists()

    # The dashboard's rollups match the raw rows.
    call_command("rollup_insight", "--check", stdout=StringIO())


def test_no_demo_text_holds_a_card_number(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    found = [value for value in demo_texts() if value and CARD_RUN.search(value)]
    assert found == []
    # Masked cards only: at most first 6 + last 4 digits.
    for card in Ticket.objects.exclude(card_masked="").values_list("card_masked", flat=True):
        assert re.fullmatch(r"\d{4}|\d{6}\*{6}\d{4}", card), card


def snapshot():
    """What the history is, independent of primary keys."""
    return {
        "tickets": list(
            Ticket.objects.order_by("created_at", "tid").values_list(
                "merchant__mid",
                "tid",
                "created_at",
                "response_code",
                "status",
                "description",
                "assignee__username",
                "first_responded_at",
                "resolved_at",
                "closed_at",
            )
        ),
        "events": TicketEvent.objects.count(),
        "batches": list(
            EscalationBatch.objects.order_by("created_at").values_list(
                "acquirer__code", "status", "created_at", "sent_at"
            )
        ),
        "incidents": list(
            Incident.objects.order_by("started_at").values_list(
                "acquirer__code", "status", "started_at", "merchant_count"
            )
        ),
        "runs": list(WizardRun.objects.values_list("solved").annotate(Count("pk")).order_by()),
        "votes": ArticleVote.objects.count(),
    }


def test_built_once_deterministic_and_reset_rebuilds_it(settings):
    settings.DEBUG = True
    reference()
    assert history.build(now=FIXED_NOW)["tickets"] > 1800
    first = snapshot()
    marker = DemoHistory.objects.get()
    assert history.build(now=FIXED_NOW) is None  # built once: a second run adds nothing
    assert snapshot() == first and DemoHistory.objects.get() == marker
    assert history.reset()
    assert not Ticket.objects.exists() and not WizardRun.objects.exists()
    assert not Merchant.objects.filter(mid__startswith=history.MID_PREFIX).exists()
    assert not ArticleVote.objects.exists() and not EscalationBatch.objects.exists()
    assert set(User.objects.values_list("username", flat=True)) == {
        "admin",
        "agent",
        "editor",
        "merchant-a",
        "merchant-b",
    }
    history.build(now=FIXED_NOW)
    assert snapshot() == first  # the same seed, the same moment: the same history


def test_seed_demo_twice_changes_nothing_and_reset_rebuilds(settings):
    settings.DEBUG = True
    call_command("seed_demo", verbosity=0)
    counts = {m: m.objects.count() for m in (Ticket, TicketEvent, WizardRun, EscalationBatch)}
    last = Ticket.objects.order_by("-pk").values_list("pk", "updated_at").first()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo history: exists, unchanged" in out.getvalue()
    assert {m: m.objects.count() for m in counts} == counts
    assert Ticket.objects.order_by("-pk").values_list("pk", "updated_at").first() == last
    old = set(
        Ticket.objects.filter(merchant__mid__startswith=history.MID_PREFIX).values_list(
            "pk", flat=True
        )
    )
    out = StringIO()
    call_command("seed_demo", "--reset", stdout=out)
    assert "Demo history removed (--reset)." in out.getvalue()
    assert DemoHistory.objects.count() == 1
    new = set(
        Ticket.objects.filter(merchant__mid__startswith=history.MID_PREFIX).values_list(
            "pk", flat=True
        )
    )
    assert new and not old & new
    assert Ticket.objects.filter(rrn="512345678901").count() == 1  # curated tickets kept, once


def test_no_history_without_debug(settings):
    settings.DEBUG = False
    call_command("seed_demo", "--reset", verbosity=0)
    assert not DemoHistory.objects.exists()
    assert not Ticket.objects.exists() and not WizardRun.objects.exists()
    assert not Merchant.objects.exists() and not User.objects.exists()
