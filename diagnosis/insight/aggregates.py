"""Dashboard aggregates: GROUP BY in SQL (Trunc* for time buckets), cached per filter.

Every aggregate runs over `Ticket` rows filtered by `created_at` range (index `ticket_created`)
and optionally by acquirer (index `ticket_acq_created`); each chart is one GROUP BY query. Times
to first response / resolution: the durations are computed and sorted in SQL (one query each)
and summarised in Python: average, lower median and nearest-rank 90th percentile (exact).
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
from django.db.models import (
    CharField,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Q,
)
from django.db.models.functions import TruncDay, TruncHour, TruncWeek
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from diagnosis.models import Ticket, WizardRun

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
        return "insight:agg:v1:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


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
    # "%%%%" → "%%" in the SQL, which the SQLite backend turns into a literal "%".
    "hour": "strftime('%%%%Y-%%%%m-%%%%d %%%%H:00:00', %(expressions)s, '{shift}')",
    "day": "date(%(expressions)s, '{shift}')",
    "week": "date(%(expressions)s, '{shift}', 'weekday 0', '-6 days')",  # the Monday
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


def declines_over_time(filters: InsightFilters) -> list[dict]:
    step = BUCKETS[filters.bucket][1]
    tz = timezone.get_current_timezone()
    found: dict[datetime, int] = {}
    for key, value in _bucket_rows(filters, tz):
        found[key] = found.get(key, 0) + value
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


def by_code(filters, total) -> list[dict]:
    rows = (
        tickets_in(filters)
        .values("response_code")
        .annotate(value=Count("pk"))
        .order_by("-value", "response_code")
    )
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


def by_category(filters, total) -> list[dict]:
    rows = (
        tickets_in(filters)
        .values("category__key", "category__name_zh", "category__name_en")
        .annotate(value=Count("pk"))
        .order_by("-value", "category__key")
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


def by_acquirer(filters, total) -> list[dict]:
    rows = (
        tickets_in(filters)
        .values("acquirer_id", "acquirer__name_zh", "acquirer__name_en")
        .annotate(value=Count("pk"))
        .order_by("-value", "acquirer_id")
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


def by_terminal_model(filters, total) -> list[dict]:
    rows = (
        tickets_in(filters)
        .values("terminal__model")
        .annotate(value=Count("pk"))
        .order_by("-value", "terminal__model")
    )
    merged: dict[str, int] = {}
    for r in rows:  # no terminal and an empty model are both "unknown"
        key = r["terminal__model"] or ""
        merged[key] = merged.get(key, 0) + r["value"]
    items = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))
    return _top(
        [{"key": k, "label": k or str(UNKNOWN), "value": v} for k, v in items],
        total,
    )


def wizard_resolution(filters) -> list[dict]:
    """Per outcome: runs that reached it, answered "solved?" yes / no, rate = yes / answered.

    Wizard runs are anonymous (no merchant, no acquirer): the acquirer filter cannot apply.
    """
    from diagnosis.wizard.engine import text
    from diagnosis.wizard.snapshot import live_tree

    tree = live_tree()
    outcomes = tree.outcomes if tree is not None else {}
    rows = (
        WizardRun.objects.filter(created_at__gte=filters.start, created_at__lt=filters.end)
        .values("outcome")
        .annotate(
            reached=Count("pk"),
            yes=Count("pk", filter=Q(solved=True)),
            no=Count("pk", filter=Q(solved=False)),
        )
        .order_by("-reached", "outcome")
    )
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


class SecondsBetween(Func):
    """(end - start) in seconds as a float, computed natively by the database.

    Django's own datetime subtraction on SQLite calls a Python function per row (9 s for the
    durations of 80,000 tickets); julianday() is SQLite's C code. PostgreSQL: EXTRACT(EPOCH …).
    """

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra,
        )

    def as_sql(self, compiler, connection, **extra):
        if connection.vendor not in ("sqlite", "postgresql") and "template" not in extra:
            # Other databases: Django's portable (slower) subtraction.
            expression = ExpressionWrapper(
                self.source_expressions[0] - self.source_expressions[1],
                output_field=DurationField(),
            )
            return compiler.compile(expression)
        return super().as_sql(compiler, connection, **extra)


def _seconds(value):
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value
    return timedelta(seconds=round(float(value), 3))


def _durations(filters, field) -> dict:
    """count, average, median and p90 of (field - created_at) over tickets that have `field`.

    One query: the durations, computed and sorted by the database, are read as plain floats and
    summarised here (one scan instead of one per statistic; 80,000 floats are ~1 MB).
    """
    rows = tickets_in(filters).filter(**{f"{field}__isnull": False})
    values = list(
        rows.annotate(d=SecondsBetween(F(field), F("created_at")))
        .order_by("d")
        .values_list("d", flat=True)
    )
    count = len(values)
    result = {"count": count, "average": None, "median": None, "p90": None}
    if count:
        result["average"] = _seconds(sum(values) / count)
        result["median"] = _seconds(values[(count - 1) // 2])  # lower median
        result["p90"] = _seconds(values[max(0, -(-count * 9 // 10) - 1)])  # nearest rank
    return result


def dashboard(filters: InsightFilters) -> dict:
    """Every aggregate of the dashboard for `filters` (cached)."""
    key = filters.cache_key()
    cached = cache.get(key)
    if cached is not None:
        return cached
    total = tickets_in(filters).count()
    data = {
        "total": total,
        "over_time": declines_over_time(filters),
        "codes": by_code(filters, total),
        "categories": by_category(filters, total),
        "acquirers": by_acquirer(filters, total),
        "terminal_models": by_terminal_model(filters, total),
        "wizard": wizard_resolution(filters),
        "first_response": _durations(filters, "first_responded_at"),
        "resolution": _durations(filters, "resolved_at"),
        "computed_at": timezone.now(),
    }
    cache.set(key, data, settings.INSIGHT_CACHE_SECONDS)
    return data
