"""Dashboard aggregates: GROUP BY in SQL, from daily rollups when built, cached per filter.

Two sources give exactly the same numbers (tests/diagnosis/test_insight_rollups.py proves it on
known data and on random ticket sets):

- the rollups (diagnosis.insight.rollups), once `manage.py rollup_insight --rebuild` has built
  them and while the current time zone is the one they were built in: every chart reads the
  range's whole months from month rows and its other days from day rows (the time chart: day
  rows), except the hourly time chart (at most 14 days), which reads the raw rows of its range;
- the raw rows otherwise: every chart is one GROUP BY over `Ticket` rows filtered by
  `created_at` range (index `ticket_created`) and optionally by acquirer (`ticket_acq_created`).

Times to first response / resolution are whole milliseconds (rollups.DurationMs, the same in SQL
and Python): count, average, lower median and nearest-rank 90th percentile, all exact. Raw: the
durations are computed and sorted in SQL and summarised here. Rollups: count and sum from the
per-bucket histogram, and the two percentiles from the exact values of the one bucket holding
each (InsightDurationValue).

The whole result is cached (INSIGHT_CACHE_SECONDS) under a key built from the filters and the
language, so a dashboard view costs no aggregate query while warm.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import CharField, Count, F, Func, Q, Sum
from django.db.models.functions import TruncDay, TruncHour, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from diagnosis.insight import rollups
from diagnosis.insight.rollups import DurationMs
from diagnosis.models import (
    InsightDurationRollup,
    InsightDurationValue,
    InsightTicketRollup,
    InsightWizardDay,
    RollupPeriod,
    Ticket,
    WizardRun,
)

BUCKETS = {
    "hour": (TruncHour, timedelta(hours=1)),
    "day": (TruncDay, timedelta(days=1)),
    "week": (TruncWeek, timedelta(weeks=1)),
}
TOP = 12  # categorical charts show the top rows and sum the rest as "other"
OTHER = _("其他")
UNKNOWN = _("未填写")


@dataclass(frozen=True)
class InsightFilters:
    date_from: date
    date_to: date  # inclusive
    acquirer_id: int | None = None
    bucket: str = "day"

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_from, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.date_to + timedelta(days=1), time.min))

    def cache_key(self) -> str:
        raw = json.dumps(
            [str(self.date_from), str(self.date_to), self.acquirer_id, self.bucket, get_language()]
        )
        return "insight:agg:v2:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def tickets_in(filters: InsightFilters):
    rows = Ticket.objects.filter(created_at__gte=filters.start, created_at__lt=filters.end)
    if filters.acquirer_id:
        rows = rows.filter(acquirer_id=filters.acquirer_id)
    return rows


def _label(zh, en):
    return (en if (get_language() or "").startswith("en") else zh) or zh or en


def _top(rows: list[dict], total: int) -> list[dict]:
    shown = rows[:TOP]
    rest = total - sum(r["value"] for r in shown)
    if len(rows) > TOP and rest > 0:
        shown.append({"key": "_other", "label": str(OTHER), "value": rest})
    return shown


SQLITE_BUCKETS = {
    # "%%%%" → "%%" in the SQL, which the SQLite backend turns into a literal "%". The stored
    # text is cut to whole seconds first: SQLite's date functions round fractions to the
    # millisecond, which would move 23:59:59.9995 into the next day.
    "hour": "strftime('%%%%Y-%%%%m-%%%%d %%%%H:00:00', substr(%(expressions)s, 1, 19), '{shift}')",
    "day": "date(substr(%(expressions)s, 1, 19), '{shift}')",
    "week": "date(substr(%(expressions)s, 1, 19), '{shift}', 'weekday 0', '-6 days')",  # Monday
}


def _fixed_offset_minutes(filters, tz) -> int | None:
    """The time zone's UTC offset in minutes if it is the same all through the range."""
    offsets = set()
    day = filters.date_from
    while True:
        offsets.add(timezone.make_aware(datetime.combine(day, time(12)), tz).utcoffset())
        if day >= filters.date_to:
            break
        day = min(day + timedelta(days=14), filters.date_to)
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


def _bucket_rows(filters, tz):
    """(local naive bucket start, count) rows. SQLite: Django's Trunc* with a time zone calls a
    Python function per row, so when the zone's offset is fixed over the range (Asia/Shanghai
    always is) the bucket is computed by SQLite's own date functions instead."""
    rows = tickets_in(filters)
    minutes = _fixed_offset_minutes(filters, tz) if connection.vendor == "sqlite" else None
    if minutes is not None:
        template = SQLITE_BUCKETS[filters.bucket].format(shift=f"{minutes:+d} minutes")
        bucket = Func(F("created_at"), template=template, output_field=CharField())
        for row in rows.annotate(bucket=bucket).values("bucket").annotate(value=Count("pk")):
            yield datetime.fromisoformat(row["bucket"]), row["value"]
        return
    trunc = BUCKETS[filters.bucket][0]
    for row in (
        rows.annotate(bucket=trunc("created_at", tzinfo=tz))
        .values("bucket")
        .annotate(value=Count("pk"))
        .order_by("bucket")
    ):
        yield timezone.localtime(row["bucket"], tz).replace(tzinfo=None), row["value"]


class Source:
    """Where the numbers come from: the raw rows of the range (this class) or the rollups."""

    name = "raw"

    def __init__(self, filters: InsightFilters):
        self.filters = filters

    def counts(self, *fields):
        """values(*fields) → value (tickets), for the range and acquirer; Ticket field names."""
        return tickets_in(self.filters).values(*fields).annotate(value=Count("pk"))

    def model_field(self) -> str:
        return "terminal__model"

    def day_counts(self) -> dict[date, int] | None:
        """Tickets per local day, or None when this source has no daily counts."""
        return None

    def total(self) -> int:
        return tickets_in(self.filters).count()

    def wizard_rows(self):
        return (
            WizardRun.objects.filter(
                created_at__gte=self.filters.start, created_at__lt=self.filters.end
            )
            .values("outcome")
            .annotate(
                reached=Count("pk"),
                yes=Count("pk", filter=Q(solved=True)),
                no=Count("pk", filter=Q(solved=False)),
            )
            .order_by("-reached", "outcome")
        )

    def durations(self) -> dict:
        return {
            kind: _raw_durations(self.filters, field)
            for kind, field in rollups.DURATION_FIELDS.items()
        }


class RollupSource(Source):
    """Whole local days from the daily rollups (diagnosis.insight.rollups)."""

    name = "rollups"

    def _rows(self, model, *, periods=True):
        """Rows of `model` for the range (whole months from month rows when `periods`) and the
        acquirer filter."""
        if periods:
            rows = model.objects.filter(
                rollups.period_filter(self.filters.date_from, self.filters.date_to)
            )
        else:
            rows = model.objects.filter(
                day__gte=self.filters.date_from, day__lte=self.filters.date_to
            )
            if model is InsightTicketRollup:
                rows = rows.filter(period=RollupPeriod.DAY)
        if self.filters.acquirer_id and model is not InsightWizardDay:
            rows = rows.filter(acquirer_id=self.filters.acquirer_id)
        return rows

    def counts(self, *fields):
        fields = tuple("terminal_model" if f == "terminal__model" else f for f in fields)
        return (
            self._rows(InsightTicketRollup)
            .values(*fields)
            .annotate(value=Sum("tickets"))
            .filter(value__gt=0)
        )

    def model_field(self) -> str:
        return "terminal_model"

    def day_counts(self) -> dict[date, int]:
        if not hasattr(self, "_day_counts"):
            self._day_counts = {
                r["day"]: r["value"]
                for r in self._rows(InsightTicketRollup, periods=False)
                .values("day")
                .annotate(value=Sum("tickets"))
                .filter(value__gt=0)
            }
        return self._day_counts

    def total(self) -> int:
        if self.filters.bucket == "hour":  # no daily counts were read for the chart
            return self._rows(InsightTicketRollup).aggregate(n=Sum("tickets"))["n"] or 0
        return sum(self.day_counts().values())

    def wizard_rows(self):
        return (
            self._rows(InsightWizardDay, periods=False)
            .values("outcome")
            .annotate(reached=Sum("reached"), yes=Sum("yes"), no=Sum("no"))
            .filter(reached__gt=0)
            .order_by("-reached", "outcome")
        )

    def durations(self) -> dict:
        """Count and sum from the bucket histogram; the median and the 90th percentile from the
        exact values of the bucket holding each rank (two queries for both kinds)."""
        histogram: dict[str, list] = {kind: [] for kind in rollups.DURATION_FIELDS}
        for row in (
            self._rows(InsightDurationRollup)
            .values("kind", "bucket")
            .annotate(n=Sum("tickets"), total=Sum("total_ms"))
            .filter(n__gt=0)
            .order_by("kind", "bucket")
        ):
            if row["kind"] in histogram:
                histogram[row["kind"]].append((row["bucket"], int(row["n"]), int(row["total"])))
        wanted: dict[str, dict[int, int]] = {}  # kind → {rank: bucket}
        bucket_start: dict[tuple[str, int], int] = {}  # (kind, bucket) → rank of its first value
        for kind, buckets in histogram.items():
            count = sum(n for _, n, _ in buckets)
            seen = 0
            for bucket, n, _total in buckets:
                bucket_start[(kind, bucket)] = seen
                for rank in _ranks(count):
                    if seen <= rank < seen + n:
                        wanted.setdefault(kind, {})[rank] = bucket
                seen += n
        values: dict[tuple[str, int], list[tuple[int, int]]] = {}
        if wanted:
            condition = Q()
            for kind, ranks in wanted.items():
                condition |= Q(kind=kind, bucket__in=sorted(set(ranks.values())))
            # Sorted here (plain integers), not by the database (a sort on the text `kind`).
            for kind, bucket, ms, n in (
                self._rows(InsightDurationValue, periods=False)
                .filter(condition)
                .values("kind", "bucket", "ms")
                .annotate(n=Sum("tickets"))
                .filter(n__gt=0)
                .order_by()
                .values_list("kind", "bucket", "ms", "n")
            ):
                values.setdefault((kind, bucket), []).append((ms, n))
            for found in values.values():
                found.sort()

        def value_at(kind):
            def pick(rank):
                bucket = wanted[kind][rank]
                position = rank - bucket_start[(kind, bucket)]
                for ms, n in values.get((kind, bucket), ()):
                    if position < n:
                        return ms
                    position -= n
                raise LookupError("insight rollups: a duration bucket is short of values")

            return pick

        return {
            kind: _summary(
                sum(n for _, n, _ in buckets), sum(t for _, _, t in buckets), value_at(kind)
            )
            for kind, buckets in histogram.items()
        }


def source_for(filters: InsightFilters) -> Source:
    return RollupSource(filters) if rollups.ready() else Source(filters)


def _series(filters: InsightFilters, found: dict[datetime, int]) -> list[dict]:
    step = BUCKETS[filters.bucket][1]
    # Every bucket of the range, the empty ones at 0, so the chart has no gaps.
    first = datetime.combine(filters.date_from, time.min)
    if filters.bucket == "week":
        first -= timedelta(days=first.weekday())
    last = datetime.combine(filters.date_to + timedelta(days=1), time.min)
    fmt = {"hour": "%m-%d %H:00", "day": "%Y-%m-%d", "week": "%Y-%m-%d"}[filters.bucket]
    series, cursor = [], first
    while cursor < last:
        series.append(
            {
                "key": cursor.isoformat(),
                "label": cursor.strftime(fmt),
                "value": found.get(cursor, 0),
            }
        )
        cursor += step
    # A bucket the database put elsewhere (e.g. a DST edge) is still counted.
    extra = sum(v for k, v in found.items() if not (first <= k < last))
    if extra and series:
        series[-1]["value"] += extra
    return series


def declines_over_time(filters: InsightFilters, source: Source | None = None) -> list[dict]:
    days = source.day_counts() if source is not None and filters.bucket != "hour" else None
    found: dict[datetime, int] = {}
    if days is not None:
        for day, value in days.items():
            if filters.bucket == "week":
                day -= timedelta(days=day.weekday())
            key = datetime.combine(day, time.min)
            found[key] = found.get(key, 0) + value
    else:
        for key, value in _bucket_rows(filters, timezone.get_current_timezone()):
            found[key] = found.get(key, 0) + value
    return _series(filters, found)


def by_code(source: Source, total) -> list[dict]:
    rows = source.counts("response_code").order_by("-value", "response_code")
    return _top(
        [
            {
                "key": r["response_code"],
                "label": r["response_code"] or str(UNKNOWN),
                "value": r["value"],
            }
            for r in rows
        ],
        total,
    )


def by_category(source: Source, total) -> list[dict]:
    rows = source.counts("category__key", "category__name_zh", "category__name_en").order_by(
        "-value", "category__key"
    )
    return _top(
        [
            {
                "key": r["category__key"] or "",
                "label": _label(r["category__name_zh"], r["category__name_en"]) or str(UNKNOWN),
                "value": r["value"],
            }
            for r in rows
        ],
        total,
    )


def by_acquirer(source: Source, total) -> list[dict]:
    rows = source.counts("acquirer_id", "acquirer__name_zh", "acquirer__name_en").order_by(
        "-value", "acquirer_id"
    )
    return _top(
        [
            {
                "key": str(r["acquirer_id"]),
                "label": _label(r["acquirer__name_zh"], r["acquirer__name_en"]),
                "value": r["value"],
            }
            for r in rows
        ],
        total,
    )


def by_terminal_model(source: Source, total) -> list[dict]:
    field = source.model_field()
    rows = source.counts("terminal__model").order_by("-value", field)
    merged: dict[str, int] = {}
    for r in rows:  # no terminal and an empty model are both "unknown"
        key = r[field] or ""
        merged[key] = merged.get(key, 0) + r["value"]
    items = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    return _top(
        [{"key": k, "label": k or str(UNKNOWN), "value": v} for k, v in items],
        total,
    )


def wizard_resolution(source: Source) -> list[dict]:
    """Per outcome: runs that reached it, answered "solved?" yes / no, rate = yes / answered.

    Wizard runs are anonymous (no merchant, no acquirer): the acquirer filter cannot apply.
    """
    from diagnosis.wizard.engine import text
    from diagnosis.wizard.snapshot import live_tree

    rows = list(source.wizard_rows())
    if not rows:
        return []
    tree = live_tree()
    outcomes = tree.outcomes if tree is not None else {}
    result = []
    for r in rows:
        answered = r["yes"] + r["no"]
        outcome = outcomes.get(r["outcome"]) or {}
        result.append(
            {
                "key": r["outcome"],
                "label": text(outcome.get("title")) or r["outcome"],
                "reached": r["reached"],
                "yes": r["yes"],
                "no": r["no"],
                "answered": answered,
                "rate": round(100 * r["yes"] / answered) if answered else None,
                "value": round(100 * r["yes"] / answered) if answered else 0,
            }
        )
    return result


def _ranks(count: int) -> tuple[int, ...]:
    """0-based ranks of the lower median and the nearest-rank 90th percentile."""
    if not count:
        return ()
    return ((count - 1) // 2, max(0, -(-count * 9 // 10) - 1))


def _summary(count: int, total_ms: int, value_at) -> dict:
    """count, average (rounded to the microsecond), lower median, nearest-rank p90 as
    timedeltas; `value_at(rank)` gives the rank-th smallest duration in ms."""
    result = {"count": count, "average": None, "median": None, "p90": None}
    if count:
        average_us = (2 * 1000 * total_ms + count) // (2 * count)  # half up
        median, p90 = _ranks(count)
        result["average"] = timedelta(microseconds=average_us)
        result["median"] = timedelta(milliseconds=value_at(median))
        result["p90"] = timedelta(milliseconds=value_at(p90))
    return result


def _raw_durations(filters, field) -> dict:
    """One query: the durations of the range's tickets that have `field`, in whole ms, computed
    and sorted by the database, read as plain integers and summarised here."""
    rows = tickets_in(filters).filter(**{f"{field}__isnull": False})
    values = list(
        rows.annotate(d=DurationMs(F(field), F("created_at")))
        .order_by("d")
        .values_list("d", flat=True)
    )
    return _summary(len(values), sum(values), values.__getitem__)


def compute(filters: InsightFilters, source: Source | None = None) -> dict:
    """Every aggregate of the dashboard for `filters`, uncached."""
    source = source or source_for(filters)
    over_time = declines_over_time(filters, source)
    total = source.total()
    durations = source.durations()
    return {
        "total": total,
        "over_time": over_time,
        "codes": by_code(source, total),
        "categories": by_category(source, total),
        "acquirers": by_acquirer(source, total),
        "terminal_models": by_terminal_model(source, total),
        "wizard": wizard_resolution(source),
        "first_response": durations["first_response"],
        "resolution": durations["resolution"],
        "source": source.name,
        "computed_at": timezone.now(),
    }


def dashboard(filters: InsightFilters) -> dict:
    """Every aggregate of the dashboard for `filters` (cached)."""
    key = filters.cache_key()
    cached = cache.get(key)
    if cached is not None:
        return cached
    data = compute(filters)
    cache.set(key, data, settings.INSIGHT_CACHE_SECONDS)
    return data
