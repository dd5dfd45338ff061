"""The dashboard's daily rollups (diagnosis.insight.rollups) give exactly the raw aggregates.

- SQL and Python agree on every duration (whole ms) and histogram bucket;
- on random ticket sets and wizard runs (random days across month ends, local midnights, a DST
  change, acquirers, codes, categories, terminals, durations), a rebuild + the rollup path give
  the same dashboard as the raw rows, for random ranges, acquirers and buckets;
- the hooks in the services keep the rollups equal to a rebuild through random sequences of
  creating, replying, changing status and wizard votes; so do the signals (a terminal's model
  edited, a terminal, a category, a ticket or a wizard run deleted);
- `rollup_insight` rebuilds, catches up a date range, checks, turns the rollups off.
"""

import contextlib
import datetime as dt
import io
import itertools
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import F, Q
from django.test.utils import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnosis.insight import aggregates, rollups
from diagnosis.insight.aggregates import InsightFilters
from diagnosis.management.commands.rollup_insight import COMPARED
from diagnosis.models import (
    InsightDurationRollup,
    InsightDurationValue,
    InsightRollupState,
    InsightTicketRollup,
    InsightWizardDay,
    Ticket,
    WizardRun,
    WizardVersion,
)
from diagnosis.tickets.services import ticket_change_status, ticket_create, ticket_reply
from diagnosis.wizard import runs
from knowledge.models import Category
from tests import factories
from tests.diagnosis.insight_support import categories
from tests.diagnosis.wizard_support import seed_small

pytestmark = pytest.mark.django_db
EXAMPLES = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_numbers = itertools.count(1)


# --- helpers -------------------------------------------------------------------------------------

COUNTS = {
    InsightTicketRollup: ("tickets",),
    InsightDurationRollup: ("tickets", "total_ms"),
    InsightDurationValue: ("tickets",),
    InsightWizardDay: ("reached", "yes", "no"),
}


def snapshot() -> dict:
    """Every rollup table as {key: counts}: rows of one key summed, all-zero keys dropped."""
    result = {}
    for model, counts in COUNTS.items():
        keys = [f.attname for f in model._meta.concrete_fields if f.attname not in ("id", *counts)]
        table: dict = {}
        for row in model.objects.values(*keys, *counts):
            key = tuple(row[k] for k in keys)
            old = table.get(key, (0,) * len(counts))
            table[key] = tuple(a + row[c] for a, c in zip(old, counts, strict=True))
        result[model.__name__] = {k: v for k, v in table.items() if any(v)}
    return result


def assert_rollups_exact():
    """What the hooks and signals maintained is what a rebuild from the raw rows gives."""
    maintained = snapshot()
    rollups.rebuild()
    assert snapshot() == maintained


def assert_same_dashboard(filters: InsightFilters):
    raw = aggregates.compute(filters, aggregates.Source(filters))
    rolled = aggregates.compute(filters, aggregates.RollupSource(filters))
    assert raw["source"] == "raw" and rolled["source"] == "rollups"
    for key in COMPARED:
        assert rolled[key] == raw[key], key


@pytest.fixture
def world(tmp_path):
    seed_small(tmp_path)  # a published wizard tree (outcome titles) and the categories
    cats = categories()
    banks = [factories.bank() for _ in range(3)]
    merchants = [factories.merchant(acquirer=bank) for bank in banks]
    terminals = [
        factories.terminal(merchant=merchants[0], model="PAX A920"),
        factories.terminal(merchant=merchants[1], model="Newland N910"),
        factories.terminal(merchant=merchants[2], model=""),
    ]
    return {
        "cats": cats,
        "banks": banks,
        "merchants": merchants,
        "users": [factories.merchant_user(merchant=m) for m in merchants],
        "terminals": terminals,
        "agent": factories.agent(),
        "version": WizardVersion.objects.get(),
    }


# --- durations and buckets: SQL == Python ------------------------------------------------------

MICROS = st.one_of(
    st.integers(min_value=-(10**9), max_value=10**13),
    st.sampled_from([0, 1, 999, 1000, 1001, 999_999, 10**6, 3_600_000_000]),
    st.sampled_from(rollups.BOUNDARIES).flatmap(
        lambda ms: st.sampled_from([ms * 1000 - 1, ms * 1000, ms * 1000 + 1])
    ),
)
INSTANTS = st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 12, 31)).map(
    lambda d: d.replace(tzinfo=dt.UTC)
)


@EXAMPLES
@given(start=INSTANTS, micros=MICROS)
def test_duration_ms_in_sql_is_the_python_one(world, start, micros):
    ticket = factories.ticket(merchant=world["merchants"][0], user=world["users"][0])
    end = start + dt.timedelta(microseconds=micros)
    Ticket.objects.filter(pk=ticket.pk).update(created_at=start, resolved_at=end)
    found = (
        Ticket.objects.filter(pk=ticket.pk)
        .annotate(ms=rollups.DurationMs(F("resolved_at"), F("created_at")))
        .values_list("ms", flat=True)
        .get()
    )
    assert found == rollups.duration_ms(start, end) == micros // 1000


@EXAMPLES
@given(
    ms=st.one_of(
        st.integers(min_value=-(10**6), max_value=2**36),
        st.sampled_from(rollups.BOUNDARIES).flatmap(lambda b: st.sampled_from([b - 1, b, b + 1])),
    )
)
def test_bucket_in_sql_is_the_python_one(db, ms):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {rollups._bucket_sql('x.v')} FROM (SELECT %s AS v) x", [ms])
        assert cursor.fetchone()[0] == rollups.bucket_of(ms)


def test_buckets_are_ordered_like_their_values():
    values = [-5, 0, 1, 1023, 1024, 1151, 1152, 3_600_000, 2**34, 2**40]
    buckets = [rollups.bucket_of(v) for v in values]
    assert buckets == sorted(buckets) and buckets[0] == 0 and buckets[-1] == len(rollups.BOUNDARIES)


def test_period_filter_reads_whole_months_from_month_rows():
    q = rollups.period_filter(dt.date(2026, 1, 31), dt.date(2026, 4, 10))
    assert q == (
        Q(period="m", day__gte=dt.date(2026, 2, 1), day__lte=dt.date(2026, 3, 1))
        | Q(period="d", day__gte=dt.date(2026, 1, 31), day__lte=dt.date(2026, 1, 31))
        | Q(period="d", day__gte=dt.date(2026, 4, 1), day__lte=dt.date(2026, 4, 10))
    )
    whole = rollups.period_filter(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    assert whole == Q(period="m", day__gte=dt.date(2026, 2, 1), day__lte=dt.date(2026, 2, 1))
    inside = rollups.period_filter(dt.date(2026, 2, 3), dt.date(2026, 2, 20))
    assert inside == Q(period="d", day__gte=dt.date(2026, 2, 3), day__lte=dt.date(2026, 2, 20))


@settings(max_examples=300)
@given(
    start=st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2028, 12, 31)),
    length=st.integers(0, 800),
)
def test_period_spans_cover_each_day_once(start, length):
    end = start + dt.timedelta(days=length)
    covered = []
    for period, first, last in rollups.period_spans(start, end):
        if period == "m":
            assert first.day == 1  # whole months: from a first day …
            assert last == rollups.next_month(last) - dt.timedelta(days=1)  # … to a last day
        covered.extend(first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    assert sorted(covered) == [start + dt.timedelta(days=i) for i in range(length + 1)]


# --- random ticket sets: rebuild + rollups == raw -------------------------------------------------

BASE = dt.date(2026, 2, 20)  # +0…45 days: two month ends, and Europe's DST start (03-29)
TICKETS = st.lists(
    st.fixed_dictionaries(
        {
            "day": st.integers(0, 45),
            "second": st.one_of(st.integers(0, 86399), st.sampled_from([0, 86399])),
            "micro": st.one_of(st.sampled_from([0, 1, 999_999]), st.integers(0, 999_999)),
            "bank": st.integers(0, 2),
            "code": st.sampled_from(["51", "05", "91", ""]),
            "category": st.sampled_from([None, "funds_limits", "issuer_system"]),
            "terminal": st.sampled_from([None, 0, 1, 2]),
            "first": st.one_of(st.none(), MICROS),
            "resolved": st.one_of(st.none(), MICROS),
        }
    ),
    max_size=40,
)
RUNS = st.lists(
    st.tuples(
        st.integers(0, 45),
        st.integers(0, 86399),
        st.sampled_from(["o-funds", "o-bank", "o-card"]),
        st.sampled_from([None, True, False]),
    ),
    max_size=15,
)
FILTERS = st.lists(
    st.tuples(
        st.integers(-3, 46),  # first day
        st.integers(0, 50),  # length
        st.sampled_from([None, 0, 1, 2]),  # acquirer
        st.sampled_from(["day", "week", "hour"]),
    ),
    min_size=1,
    max_size=4,
)


def _local(zone, day_offset, second, micro=0):
    naive = dt.datetime.combine(BASE + dt.timedelta(days=day_offset), dt.time()) + dt.timedelta(
        seconds=second, microseconds=micro
    )
    return naive.replace(tzinfo=ZoneInfo(zone))


def _filters(world, first, length, bank, bucket) -> InsightFilters:
    if bucket == "hour":
        length = min(length, 13)
    start = BASE + dt.timedelta(days=first)
    return InsightFilters(
        date_from=start,
        date_to=start + dt.timedelta(days=length),
        acquirer_id=world["banks"][bank].pk if bank is not None else None,
        bucket=bucket,
    )


@EXAMPLES
@given(
    zone=st.sampled_from(["Asia/Shanghai", "Europe/Berlin"]),
    tickets=TICKETS,
    wizard_runs=RUNS,
    filters=FILTERS,
)
def test_rollups_give_the_raw_numbers_on_random_data(world, zone, tickets, wizard_runs, filters):
    with override_settings(TIME_ZONE=zone), transaction.atomic():
        rows = []
        for t in tickets:
            created = _local(zone, t["day"], t["second"], t["micro"])
            terminal = world["terminals"][t["terminal"]] if t["terminal"] is not None else None
            rows.append(
                Ticket(
                    number=f"RT-{next(_numbers)}",
                    merchant=world["merchants"][t["bank"]],
                    acquirer=world["banks"][t["bank"]],
                    terminal=terminal,
                    tid=terminal.tid if terminal else "99999999",
                    transaction_time=created,
                    amount="10.00",
                    response_code=t["code"],
                    category=world["cats"][t["category"]] if t["category"] else None,
                    created_at=created,
                    first_responded_at=created + dt.timedelta(microseconds=t["first"])
                    if t["first"] is not None
                    else None,
                    resolved_at=created + dt.timedelta(microseconds=t["resolved"])
                    if t["resolved"] is not None
                    else None,
                )
            )
        Ticket.objects.bulk_create(rows)
        WizardRun.objects.bulk_create(
            WizardRun(
                version=world["version"],
                path="x",
                outcome=outcome,
                solved=solved,
                created_at=_local(zone, day, second),
            )
            for day, second, outcome, solved in wizard_runs
        )
        rollups.rebuild()
        assert rollups.ready()
        for first, length, bank, bucket in filters:
            assert_same_dashboard(_filters(world, first, length, bank, bucket))
        transaction.set_rollback(True)


# --- hooks in the services keep the rollups exact -------------------------------------------------

OPS = st.lists(
    st.one_of(
        st.tuples(
            st.just("create"),
            st.integers(0, 3),  # days ago
            st.integers(0, 86399),  # seconds earlier
            st.integers(0, 2),  # bank
            st.sampled_from(["51", "91", ""]),
            st.sampled_from([None, "funds_limits", "network"]),
            st.sampled_from([None, 0, 1, 2]),
        ),
        st.tuples(st.just("reply"), st.integers(0, 20), st.booleans()),
        st.tuples(
            st.just("status"),
            st.integers(0, 20),
            st.sampled_from(["in_progress", "waiting_merchant", "resolved", "closed"]),
        ),
        st.tuples(
            st.just("wizard"),
            st.sampled_from(["o-funds", "o-bank"]),
            st.lists(st.booleans(), max_size=3),
        ),
    ),
    max_size=14,
)


def _apply(world, op, tickets):
    kind = op[0]
    if kind == "create":
        _, days, seconds, bank, code, category, terminal = op
        now = timezone.now() - dt.timedelta(days=days, seconds=seconds)
        merchant = world["merchants"][bank]
        terminal = world["terminals"][terminal] if terminal is not None else None
        tickets.append(
            ticket_create(
                merchant=merchant,
                user=world["users"][bank],
                tid=terminal.tid if terminal else "99999999",
                transaction_time=now - dt.timedelta(minutes=1),
                amount="12.00",
                response_code=code,
                category=world["cats"][category] if category else None,
                now=now,
            )
        )
    elif kind == "reply" and tickets:
        ticket = tickets[op[1] % len(tickets)]
        ticket_reply(ticket=ticket, author=world["agent"], body="好的", internal=op[2])
    elif kind == "status" and tickets:
        ticket = tickets[op[1] % len(tickets)]
        with contextlib.suppress(ValidationError):  # a move the workflow does not allow
            ticket_change_status(ticket=ticket, actor=world["agent"], status=op[2])
    elif kind == "wizard":
        run = runs.run_record(
            version_pk=world["version"].pk, path="x", code="", outcome=op[1], bank_lead=False
        )
        for solved in op[2]:
            runs.run_vote(run=run, solved=solved)


@EXAMPLES
@given(ops=OPS)
def test_hooks_keep_the_rollups_equal_to_a_rebuild(world, ops):
    with transaction.atomic():
        rollups.rebuild()
        tickets: list = []
        for op in ops:
            _apply(world, op, tickets)
        assert_rollups_exact()
        today = timezone.localdate()
        for bank in (None, world["banks"][0].pk):
            assert_same_dashboard(
                InsightFilters(
                    date_from=today - dt.timedelta(days=4), date_to=today, acquirer_id=bank
                )
            )
        transaction.set_rollback(True)


def test_reopen_and_resolve_again_move_the_resolution_time(world):
    rollups.rebuild()
    agent = world["agent"]
    ticket = factories.ticket(merchant=world["merchants"][0], user=world["users"][0])
    ticket_reply(ticket=ticket, author=agent, body="在查")
    ticket_change_status(ticket=ticket, actor=agent, status="resolved")
    assert_rollups_exact()
    ticket_change_status(ticket=ticket, actor=agent, status="in_progress")  # reopened
    assert ticket.resolved_at is None
    assert_rollups_exact()
    ticket_change_status(ticket=ticket, actor=agent, status="closed")  # not resolved: no time
    assert_rollups_exact()
    ticket_change_status(ticket=ticket, actor=agent, status="in_progress")
    ticket_change_status(ticket=ticket, actor=agent, status="resolved")
    ticket_change_status(ticket=ticket, actor=agent, status="closed")  # keeps its resolution
    assert_rollups_exact()
    assert InsightDurationValue.objects.filter(kind="resolution").count() == 1


def test_one_query_per_rollup_row_in_the_services(world, django_assert_max_num_queries):
    rollups.rebuild()
    merchant, user = world["merchants"][0], world["users"][0]
    factories.ticket(merchant=merchant, user=user)  # the day's and month's rows exist now
    ticket = factories.ticket(merchant=merchant, user=user)
    # an agent's first reply: the ticket's own queries + 3 rollup updates (day, month, value)
    with django_assert_max_num_queries(16) as replied:
        ticket_reply(ticket=ticket, author=world["agent"], body="在查")
    rollup_sql = [q for q in replied.captured_queries if "insight" in q["sql"]]
    assert len(rollup_sql) == 6  # each: UPDATE, then INSERT (first time)
    another = factories.ticket(merchant=merchant, user=user)
    with django_assert_max_num_queries(16) as again:
        ticket_reply(ticket=another, author=world["agent"], body="在查")
    assert len([q for q in again.captured_queries if "insight" in q["sql"]]) <= 6


def test_two_rows_with_one_key_just_sum(world):
    """Two first inserts of one key racing leave two rows: harmless, counts are additive."""
    merchant, user = world["merchants"][0], world["users"][0]
    rollups.rebuild()
    factories.ticket(merchant=merchant, user=user)
    for row in InsightTicketRollup.objects.all():
        row.pk, row.tickets = None, 0
        row.save()  # a twin of every row
    assert InsightTicketRollup.objects.count() == 4  # day and month rows, twice
    factories.ticket(merchant=merchant, user=user)  # the hook updates one of the twins
    assert InsightTicketRollup.objects.count() == 4
    today = timezone.localdate()
    assert_same_dashboard(InsightFilters(date_from=today, date_to=today))
    assert_rollups_exact()


# --- signals: rare writes outside the services -------------------------------------------------


def test_terminal_model_edit_and_deletions_keep_the_rollups_exact(world):
    merchant, user, agent = world["merchants"][0], world["users"][0], world["agent"]
    terminal = world["terminals"][0]
    retired = Category.objects.create(key="retired", name_zh="旧分类", name_en="Old", position=99)
    tickets = [
        factories.ticket(
            merchant=merchant,
            user=user,
            tid=terminal.tid,
            category=retired,
            now=timezone.now() - dt.timedelta(days=d),
            transaction_time=timezone.now() - dt.timedelta(days=d, minutes=1),
        )
        for d in (0, 0, 1, 40)
    ]
    ticket_reply(ticket=tickets[0], author=agent, body="在查")
    ticket_change_status(ticket=tickets[0], actor=agent, status="resolved")
    runs.run_vote(
        run=runs.run_record(
            version_pk=world["version"].pk, path="x", code="", outcome="o-bank", bank_lead=False
        ),
        solved=True,
    )
    rollups.rebuild()

    terminal.model = "Centerm K9"
    terminal.save()
    assert_rollups_exact()
    terminal.location = "后门"  # another field: nothing moves
    terminal.save()
    assert_rollups_exact()
    tickets[1].delete()
    assert_rollups_exact()
    terminal.delete()  # its tickets lose it (SET_NULL): counted without a model
    assert_rollups_exact()
    retired.delete()  # SET_NULL too
    assert_rollups_exact()
    WizardRun.objects.get().delete()
    assert_rollups_exact()
    today = timezone.localdate()
    assert_same_dashboard(InsightFilters(date_from=today - dt.timedelta(days=60), date_to=today))
    assert not Ticket.objects.filter(category__isnull=False).exists()


# --- when the dashboard reads the rollups ---------------------------------------------------------


def test_the_dashboard_reads_rollups_only_once_built_in_its_time_zone(world):
    factories.ticket(merchant=world["merchants"][0], user=world["users"][0])
    today = timezone.localdate()
    f = InsightFilters(date_from=today - dt.timedelta(days=6), date_to=today)
    assert aggregates.compute(f)["source"] == "raw"  # never built
    rollups.rebuild()
    assert aggregates.compute(f)["source"] == "rollups"
    assert aggregates.compute(f)["total"] == 1
    with timezone.override("Europe/Berlin"):  # other local days than the rollups'
        assert aggregates.compute(f)["source"] == "raw"
    with override_settings(TIME_ZONE="Europe/Berlin"):  # built in another zone
        assert aggregates.compute(f)["source"] == "raw"
    rollups.forget()
    assert aggregates.compute(f)["source"] == "raw"


def test_dashboard_view_query_count_with_rollups_does_not_grow(
    client, world, django_assert_max_num_queries
):
    factories.sign_in(client, world["agent"])
    for i in range(3):  # every kind of row already: replies, a resolution, a wizard run
        ticket = factories.ticket(merchant=world["merchants"][i], user=world["users"][i])
        ticket_reply(ticket=ticket, author=world["agent"], body="收到")
    ticket_change_status(ticket=ticket, actor=world["agent"], status="resolved")
    runs.run_record(
        version_pk=world["version"].pk, path="x", code="", outcome="o-bank", bank_lead=False
    )
    rollups.rebuild()
    client.get("/desk/insight/")  # warm the session
    cache.clear()
    with django_assert_max_num_queries(20) as cold:
        html = client.get("/desk/insight/").content.decode()
    assert "共 3 张拒绝工单" in html
    small = len(cold.captured_queries)
    for i in range(3):
        for _ in range(10):
            ticket = factories.ticket(merchant=world["merchants"][i], user=world["users"][i])
            ticket_reply(ticket=ticket, author=world["agent"], body="收到")
            ticket_change_status(ticket=ticket, actor=world["agent"], status="resolved")
            runs.run_record(
                version_pk=world["version"].pk, path="x", code="", outcome="o-card", bank_lead=False
            )
    cache.clear()
    with django_assert_max_num_queries(small) as ctx:
        html = client.get("/desk/insight/").content.decode()
    assert "共 33 张拒绝工单" in html
    assert len(ctx.captured_queries) == small


# --- the command ---------------------------------------------------------------------------------


def run(*args) -> str:
    out = io.StringIO()
    call_command("rollup_insight", *args, stdout=out)
    return out.getvalue()


def test_command_rebuilds_catches_up_checks_and_turns_off(world):
    merchant, user = world["merchants"][0], world["users"][0]
    factories.ticket(merchant=merchant, user=user)
    assert "not built" in run()
    with pytest.raises(CommandError, match="--rebuild first"):
        run("--from", "2026-01-01", "--to", "2026-01-31")
    assert "Rebuilt:" in run("--rebuild")
    assert InsightRollupState.objects.get().time_zone == "Asia/Shanghai"
    assert "Rollups built" in run()
    assert "match the raw rows" in run("--check")

    # A bulk load behind the services' back: --check finds it, a catch-up of its days fixes it.
    old = timezone.now() - dt.timedelta(days=3)
    Ticket.objects.bulk_create(
        [
            Ticket(
                number=f"BULK-{i}",
                merchant=merchant,
                acquirer=merchant.acquirer,
                tid="99999999",
                transaction_time=old,
                amount="1.00",
                created_at=old,
                first_responded_at=old + dt.timedelta(minutes=i),
            )
            for i in range(4)
        ]
    )
    with pytest.raises(CommandError, match="differ from the raw rows"):
        run("--check")
    day = timezone.localdate(old).isoformat()
    assert "Caught up:" in run("--from", day, "--to", day)
    assert "match the raw rows" in run("--check")
    assert "match the raw rows" in run("--check", "--acquirer", str(merchant.acquirer_id))

    with pytest.raises(CommandError):
        run("--from", "2026-02-10", "--to", "2026-02-01")
    with pytest.raises(CommandError):
        run("--rebuild", "--from", "2026-02-01")
    with pytest.raises(CommandError):
        run("--from", "not-a-date")
    assert "Rollups off" in run("--off")
    assert not InsightRollupState.objects.exists()
    with pytest.raises(CommandError, match="not in use"):
        run("--check")


def test_rebuild_of_an_empty_database(db):
    result = rollups.rebuild()
    assert result["days"] == 0 and rollups.ready()
    assert all(not model.objects.exists() for model in COUNTS)
