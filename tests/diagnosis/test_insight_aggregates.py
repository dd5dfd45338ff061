"""Dashboard aggregates: exact numbers on known data (dates in Shanghai time, stored in UTC),
from the raw rows and from the daily rollups (`source`): both give the same numbers."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from diagnosis.insight import aggregates, rollups
from diagnosis.insight.aggregates import InsightFilters
from diagnosis.models import Ticket, WizardRun, WizardVersion
from tests import factories
from tests.diagnosis.insight_support import categories, ticket_at
from tests.diagnosis.wizard_support import seed_small

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def local(day, hour, minute=0):
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture
def world():
    cats = categories()
    bank_a = factories.bank(name_zh="甲银行", name_en="Bank A")
    bank_b = factories.bank(name_zh="乙银行", name_en="Bank B")
    m_a = factories.merchant(acquirer=bank_a)
    m_a2 = factories.merchant(acquirer=bank_a)
    m_b = factories.merchant(acquirer=bank_b)
    t1 = factories.terminal(merchant=m_a, tid="A0000001", model="PAX A920")
    t2 = factories.terminal(merchant=m_a2, tid="A0000002", model="Newland N910")
    t3 = factories.terminal(merchant=m_b, tid="B0000001", model="PAX A920")
    rows = [
        (m_a, t1.tid, local(2, 9, 10), "51", "funds_limits"),
        (m_a, t1.tid, local(2, 9, 40), "51", "funds_limits"),
        (m_a2, t2.tid, local(2, 10, 5), "91", "issuer_system"),
        (m_b, t3.tid, local(3, 8, 0), "05", "issuer_system"),
        (m_b, "99999999", local(3, 23, 59), "", None),  # unknown terminal, no code
        (m_b, t3.tid, local(4, 0, 30), "51", "funds_limits"),  # after the range
        (m_a, t1.tid, local(1, 23, 59), "51", "funds_limits"),  # before the range
    ]
    tickets = [
        ticket_at(m, when, tid=tid, code=code, category=cats[key] if key else None)
        for m, tid, when, code, key in rows
    ]
    minutes = [10, 30, 60, 120]
    for ticket, after in zip(tickets[:4], minutes, strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(
            first_responded_at=ticket.created_at + dt.timedelta(minutes=after)
        )
    Ticket.objects.filter(pk=tickets[0].pk).update(
        resolved_at=tickets[0].created_at + dt.timedelta(hours=2)
    )
    Ticket.objects.filter(pk=tickets[2].pk).update(
        resolved_at=tickets[2].created_at + dt.timedelta(days=1)
    )
    # tickets outside the range have replies too; they must not count
    Ticket.objects.filter(pk__in=[tickets[5].pk, tickets[6].pk]).update(
        first_responded_at=local(5, 0), resolved_at=local(6, 0)
    )
    return {"a": bank_a, "b": bank_b, "tickets": tickets}


@pytest.fixture(params=["raw", "rollups"])
def source(request, world):
    """The known data, read from the raw rows or from rollups rebuilt over it."""
    if request.param == "rollups":
        rollups.rebuild()
    return request.param


def dashboard(f, source):
    data = aggregates.dashboard(f)
    assert data["source"] == source
    return data


def filters(**kw):
    return InsightFilters(
        date_from=dt.date(2026, 3, 2), date_to=dt.date(2026, 3, 3), **{"bucket": "day", **kw}
    )


def pairs(rows):
    return [(r["label"], r["value"]) for r in rows]


def test_totals_and_breakdowns(source):
    data = dashboard(filters(), source)
    assert data["total"] == 5
    assert pairs(data["over_time"]) == [("2026-03-02", 3), ("2026-03-03", 2)]
    assert pairs(data["codes"]) == [("51", 2), ("未填写", 1), ("05", 1), ("91", 1)]
    assert pairs(data["categories"]) == [
        ("分类funds_limits", 2),
        ("分类issuer_system", 2),
        ("未填写", 1),
    ]
    assert pairs(data["acquirers"]) == [("甲银行", 3), ("乙银行", 2)]
    assert pairs(data["terminal_models"]) == [("PAX A920", 3), ("未填写", 1), ("Newland N910", 1)]


def test_hourly_buckets_cover_the_whole_range_in_local_time(source, django_assert_max_num_queries):
    # Captured queries go through the debug cursor (as with DEBUG on): literal "%" must survive.
    with django_assert_max_num_queries(12):
        series = dashboard(filters(bucket="hour"), source)["over_time"]
    assert len(series) == 48
    nonzero = [(r["label"], r["value"]) for r in series if r["value"]]
    assert nonzero == [
        ("03-02 09:00", 2),
        ("03-02 10:00", 1),
        ("03-03 08:00", 1),
        ("03-03 23:00", 1),
    ]
    assert sum(r["value"] for r in series) == 5


def test_weekly_buckets_start_on_monday(source):
    series = dashboard(filters(bucket="week"), source)["over_time"]
    assert pairs(series) == [("2026-03-02", 5)]  # 2026-03-02 is a Monday


def test_acquirer_filter(world, source):
    data = dashboard(filters(acquirer_id=world["a"].pk), source)
    assert data["total"] == 3
    assert pairs(data["codes"]) == [("51", 2), ("91", 1)]
    assert pairs(data["acquirers"]) == [("甲银行", 3)]
    assert data["first_response"]["count"] == 3


def test_time_to_first_response_and_to_resolution(source):
    data = dashboard(filters(), source)
    first = data["first_response"]
    assert first["count"] == 4
    assert first["average"] == dt.timedelta(minutes=55)
    assert first["median"] == dt.timedelta(minutes=30)  # lower median of 10, 30, 60, 120
    assert first["p90"] == dt.timedelta(minutes=120)  # nearest rank
    resolution = data["resolution"]
    assert resolution["count"] == 2
    assert resolution["average"] == dt.timedelta(hours=13)
    assert resolution["median"] == dt.timedelta(hours=2)
    assert resolution["p90"] == dt.timedelta(days=1)


def test_empty_range_has_zeros_not_errors(source):
    data = dashboard(
        InsightFilters(date_from=dt.date(2025, 1, 1), date_to=dt.date(2025, 1, 3)), source
    )
    assert data["total"] == 0
    assert pairs(data["over_time"]) == [("2025-01-01", 0), ("2025-01-02", 0), ("2025-01-03", 0)]
    assert data["codes"] == [] and data["wizard"] == []
    assert data["first_response"] == {"count": 0, "average": None, "median": None, "p90": None}


def test_categorical_charts_keep_the_top_and_sum_the_rest(source, monkeypatch):
    monkeypatch.setattr(aggregates, "TOP", 2)
    data = dashboard(filters(), source)
    assert pairs(data["codes"]) == [("51", 2), ("未填写", 1), ("其他", 2)]


@pytest.fixture
def tree(tmp_path):
    return seed_small(tmp_path)


def test_wizard_self_service_resolution_rate_per_outcome(tree, source):
    version = WizardVersion.objects.get()
    inside = local(2, 12)
    for outcome, solved in [
        ("o-funds", True),
        ("o-funds", True),
        ("o-funds", False),
        ("o-funds", None),
        ("o-bank", None),
        ("o-bank", None),
    ]:
        WizardRun.objects.create(
            version=version, path="x", outcome=outcome, solved=solved, created_at=inside
        )
    WizardRun.objects.create(
        version=version, path="x", outcome="o-bank", solved=True, created_at=local(5, 12)
    )
    if source == "rollups":  # written behind the services' back: a rebuild counts them
        rollups.rebuild()
    rows = dashboard(filters(), source)["wizard"]
    assert [
        (r["key"], r["label"], r["reached"], r["answered"], r["yes"], r["rate"]) for r in rows
    ] == [
        ("o-funds", "余额不足", 4, 3, 2, 67),
        ("o-bank", "银行系统维护", 2, 0, 0, None),
    ]


def test_results_are_cached_per_filter(
    world, source, django_assert_num_queries, django_assert_max_num_queries
):
    aggregates.dashboard(filters())
    with django_assert_num_queries(0):
        aggregates.dashboard(filters())
    with django_assert_max_num_queries(12):  # another filter: computed again (a fixed number)
        aggregates.dashboard(filters(acquirer_id=world["b"].pk))
