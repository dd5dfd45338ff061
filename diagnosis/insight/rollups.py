"""Daily rollups behind the agents' dashboard: kept exact, rebuilt set-based in SQL.

Tables (diagnosis.models.insight):
- InsightTicketRollup: tickets per local day × acquirer × response code × category × terminal
  model, and the same per month (`period`): a range reads whole months from the month rows and
  only its edge days from the day rows (`period_filter`);
- InsightDurationRollup: time to first response / to resolution per day (and per month) ×
  acquirer × kind × histogram bucket (count, sum in whole ms); InsightDurationValue: the exact
  values behind each bucket per day, counted, so the median and the 90th percentile stay exact
  (aggregates reads only the bucket that holds the wanted rank);
- InsightWizardDay: wizard runs per local day × outcome (reached, solved yes / no);
- InsightRollupState: written by a full rebuild; the dashboard reads the rollups only when it
  exists and was built in the current time zone (diagnosis.insight.aggregates).

"Local day" is the date of `created_at` in the default time zone (settings.TIME_ZONE), i.e. the
same [midnight, next midnight) ranges the raw aggregates filter on.

How they stay exact:
- in the same transaction as the write, from the ticket and wizard services: `ticket_added`
  (ticket_create), `ticket_duration_changed` (the first agent reply; resolving, closing and
  reopening), `wizard_run_added` / `wizard_vote_changed` (diagnosis.wizard.runs);
- by signals (`connect()`) for the rare writes elsewhere that change what a ticket is counted
  under: a terminal's model edited or the terminal deleted (its tickets lose it), a category
  deleted, a ticket or a wizard run deleted;
- `rebuild()` (``manage.py rollup_insight --rebuild``, or ``--from/--to`` for some days) recomputes
  them from the raw rows with INSERT … SELECT … GROUP BY, per chunk of days, on SQLite and
  PostgreSQL alike. Anything that writes tickets or wizard runs behind the services' back (bulk
  loads, COPY, fixtures, raw SQL) must be followed by a rebuild of the days it touched.

Durations are whole milliseconds, floor((end - start) / 1 ms), computed identically by Python
(the hooks), by SQL (`DurationMs`: the rebuild and the raw aggregates) on both databases.
"""

import bisect
from collections import Counter
from datetime import datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import F, Func, IntegerField, Q
from django.db.utils import NotSupportedError
from django.utils import timezone

from diagnosis.models import (
    InsightDurationRollup,
    InsightDurationValue,
    InsightRollupState,
    InsightTicketRollup,
    InsightWizardDay,
    RollupPeriod,
)

# kind → the Ticket field whose distance from `created_at` is measured
DURATION_FIELDS = {"first_response": "first_responded_at", "resolution": "resolved_at"}

# Histogram bucket boundaries in ms: below 0, below ~1 s, then 8 buckets per doubling (12.5 %
# wide) up to 2^34 ms (~199 days); longer durations share the last bucket. bucket = the number
# of boundaries <= the value (bisect_right), so buckets are ordered like the values they hold.
BOUNDARIES = (
    0,
    *(2**exponent + step * 2 ** (exponent - 3) for exponent in range(10, 34) for step in range(8)),
    2**34,
)
DAYS_PER_STATEMENT = 32


def local_day(value):
    return timezone.localtime(value, timezone.get_default_timezone()).date()


def month_of(day):
    return day.replace(day=1)


def next_month(day):
    return month_of(month_of(day) + timedelta(days=32))


def _periods(day) -> tuple:
    return ((RollupPeriod.DAY, day), (RollupPeriod.MONTH, month_of(day)))


def period_spans(date_from, date_to) -> list[tuple[str, object, object]]:
    """(period, first, last) spans covering the local days date_from..date_to exactly once: the
    months that lie wholly inside as month rows, the days before and after them as day rows."""
    first = date_from if date_from.day == 1 else next_month(date_from)
    after = month_of(date_to + timedelta(days=1))  # the first month not wholly inside
    if first >= after:
        return [(RollupPeriod.DAY, date_from, date_to)]
    spans = [(RollupPeriod.MONTH, first, after - timedelta(days=1))]
    if date_from < first:
        spans.append((RollupPeriod.DAY, date_from, first - timedelta(days=1)))
    if after <= date_to:
        spans.append((RollupPeriod.DAY, after, date_to))
    return spans


def period_filter(date_from, date_to) -> Q:
    """The rows of a period rollup (day and month rows) that cover date_from..date_to."""
    condition = Q()
    for period, first, last in period_spans(date_from, date_to):
        if period == RollupPeriod.MONTH:
            last = month_of(last)
        condition |= Q(period=period, day__gte=first, day__lte=last)
    return condition


def day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def duration_ms(start, end) -> int:
    return (end - start) // timedelta(milliseconds=1)


def bucket_of(ms: int) -> int:
    return bisect.bisect_right(BOUNDARIES, ms)


# --- SQL expressions -------------------------------------------------------------------------


class DurationMs(Func):
    """floor((end - start) / 1 ms) as an integer, exact on both databases.

    PostgreSQL: EXTRACT(EPOCH FROM interval) is numeric (exact microseconds). SQLite stores
    datetimes as "YYYY-MM-DD HH:MM:SS[.ffffff]" text: whole seconds by julianday() (exact after
    rounding), microseconds from the text, floor division done by hand (SQLite's `/` truncates).
    """

    arity = 2
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        sql = f"FLOOR(EXTRACT(EPOCH FROM ({end} - {start})) * 1000)::bigint"
        return sql, (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra):
        end, end_params = compiler.compile(self.source_expressions[0])
        start, start_params = compiler.compile(self.source_expressions[1])
        return _sqlite_ms((end, tuple(end_params)), (start, tuple(start_params)))

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("DurationMs supports SQLite and PostgreSQL.")


def _sqlite_ms(end, start):
    """(sql, params) of floor((end - start) in ms) for SQLite text datetimes."""
    (e, ep), (s, sp) = end, start
    seconds = (
        f"CAST(round((julianday(substr({e}, 1, 19)) - julianday(substr({s}, 1, 19))) * 86400)"
        " AS INTEGER)"
    )
    micros = (
        f"({seconds} * 1000000 + CAST(substr({e} || '.000000', 21, 6) AS INTEGER)"
        f" - CAST(substr({s} || '.000000', 21, 6) AS INTEGER))"
    )
    params = (*ep, *sp, *ep, *sp)
    # floor division: us - (us mod 1000, made non-negative), then an exact division ("%%": the
    # statement always goes through parameter interpolation)
    sql = f"(({micros} - ((({micros} %% 1000) + 1000) %% 1000)) / 1000)"
    return sql, params * 2


def _duration_sql(end_column: str, start_column: str):
    if connection.vendor == "postgresql":
        return f"FLOOR(EXTRACT(EPOCH FROM ({end_column} - {start_column})) * 1000)::bigint", ()
    if connection.vendor == "sqlite":
        return _sqlite_ms((end_column, ()), (start_column, ()))
    raise NotSupportedError("The insight rollups support SQLite and PostgreSQL.")


def _bucket_sql(column: str, low: int = 0, high: int = len(BOUNDARIES)) -> str:
    """bisect_right(BOUNDARIES, column) as a nested (binary search) CASE: ~8 comparisons."""
    if low == high:
        return str(low)
    middle = (low + high) // 2
    return (
        f"CASE WHEN {column} < {BOUNDARIES[middle]} THEN {_bucket_sql(column, low, middle)} "
        f"ELSE {_bucket_sql(column, middle + 1, high)} END"
    )


def _day_sql(column: str, days: list) -> tuple[str, list]:
    """The local day of `column` among `days` (consecutive), as a nested CASE over the days'
    start instants: the same boundaries as the raw aggregates' created_at ranges."""
    ops = connection.ops
    if len(days) == 1:
        return "%s", [ops.adapt_datefield_value(days[0])]
    middle = len(days) // 2
    low_sql, low_params = _day_sql(column, days[:middle])
    high_sql, high_params = _day_sql(column, days[middle:])
    return (
        f"CASE WHEN {column} < %s THEN {low_sql} ELSE {high_sql} END",
        [ops.adapt_datetimefield_value(day_start(days[middle])), *low_params, *high_params],
    )


# --- maintenance in the services' transactions ---------------------------------------------------


def _add(model, key: dict, **deltas):
    """Add `deltas` to the one row with `key` (to one of them if a race left two), else insert
    it. Counts are additive, so two rows with one key are harmless (readers SUM)."""
    deltas = {field: value for field, value in deltas.items() if value}
    if not deltas:
        return
    one = model.objects.filter(**key).values("pk")[:1]
    updated = model.objects.filter(pk__in=one).update(
        **{field: F(field) + value for field, value in deltas.items()}
    )
    if not updated:
        model.objects.create(**key, **deltas)


def _ticket_key(ticket) -> dict:
    terminal = ticket.terminal if ticket.terminal_id else None
    return {
        "acquirer_id": ticket.acquirer_id,
        "response_code": ticket.response_code,
        "category_id": ticket.category_id,
        "terminal_model": (terminal.model if terminal is not None else "") or "",
    }


def _duration(ticket, kind: str, value, sign: int):
    ms = duration_ms(ticket.created_at, value)
    bucket = bucket_of(ms)
    day = local_day(ticket.created_at)
    for period, start in _periods(day):
        _add(
            InsightDurationRollup,
            {
                "period": period,
                "day": start,
                "acquirer_id": ticket.acquirer_id,
                "kind": kind,
                "bucket": bucket,
            },
            tickets=sign,
            total_ms=sign * ms,
        )
    _add(
        InsightDurationValue,
        {"kind": kind, "bucket": bucket, "day": day, "acquirer_id": ticket.acquirer_id, "ms": ms},
        tickets=sign,
    )


def ticket_added(ticket, *, sign: int = 1):
    """Count a ticket just created (sign=-1: a ticket about to be deleted)."""
    key = _ticket_key(ticket)
    for period, start in _periods(local_day(ticket.created_at)):
        _add(InsightTicketRollup, {"period": period, "day": start, **key}, tickets=sign)
    for kind, field in DURATION_FIELDS.items():
        value = getattr(ticket, field)
        if value is not None:
            _duration(ticket, kind, value, sign)


def ticket_duration_changed(ticket, field: str, old, new):
    """`ticket.<field>` (first_responded_at or resolved_at) went from `old` to `new`."""
    if old == new:
        return
    kind = next(k for k, f in DURATION_FIELDS.items() if f == field)
    if old is not None:
        _duration(ticket, kind, old, -1)
    if new is not None:
        _duration(ticket, kind, new, +1)


def _solved_counts(solved) -> tuple[int, int]:
    return int(solved is True), int(solved is False)


def wizard_run_added(run, *, sign: int = 1):
    yes, no = _solved_counts(run.solved)
    _add(
        InsightWizardDay,
        {"day": local_day(run.created_at), "outcome": run.outcome},
        reached=sign,
        yes=sign * yes,
        no=sign * no,
    )


def wizard_vote_changed(run, old, new):
    (old_yes, old_no), (new_yes, new_no) = _solved_counts(old), _solved_counts(new)
    _add(
        InsightWizardDay,
        {"day": local_day(run.created_at), "outcome": run.outcome},
        yes=new_yes - old_yes,
        no=new_no - old_no,
    )


# --- signals: rare writes outside the services -------------------------------------------------


def _terminal_tickets_moved(terminal_pk, old_model: str, new_model: str):
    """The tickets of a terminal are now counted under `new_model`: delta rows (set-based)."""
    from diagnosis.models import Ticket

    if (old_model or "") == (new_model or ""):
        return
    groups = Counter(
        (local_day(created_at), acquirer_id, code, category_id)
        for created_at, acquirer_id, code, category_id in Ticket.objects.filter(
            terminal_id=terminal_pk
        ).values_list("created_at", "acquirer_id", "response_code", "category_id")
    )
    rows = []
    for (day, acquirer_id, code, category_id), count in groups.items():
        for period, start in _periods(day):
            for model, sign in ((old_model or "", -1), (new_model or "", 1)):
                rows.append(
                    InsightTicketRollup(
                        period=period,
                        day=start,
                        acquirer_id=acquirer_id,
                        response_code=code,
                        category_id=category_id,
                        terminal_model=model,
                        tickets=sign * count,
                    )
                )
    InsightTicketRollup.objects.bulk_create(rows, batch_size=500)


def _terminal_pre_save(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None or instance._state.adding:
        instance._insight_old_model = None
        return
    instance._insight_old_model = (
        sender.objects.filter(pk=instance.pk).values_list("model", flat=True).first()
    )


def _terminal_post_save(sender, instance, created=False, raw=False, **kwargs):
    old = getattr(instance, "_insight_old_model", None)
    instance._insight_old_model = None
    if raw or created or old is None:
        return
    _terminal_tickets_moved(instance.pk, old, instance.model)


def _terminal_pre_delete(sender, instance, **kwargs):
    # Ticket.terminal is SET_NULL: the tickets are counted without a model from now on.
    _terminal_tickets_moved(instance.pk, instance.model, "")


def _category_pre_delete(sender, instance, **kwargs):
    # Ticket.category is SET_NULL: the same rows, without a category.
    InsightTicketRollup.objects.filter(category_id=instance.pk).update(category_id=None)


def _ticket_pre_delete(sender, instance, **kwargs):
    # As stored now (the instance, or its cached terminal, may be older).
    stored = sender.objects.select_related("terminal").filter(pk=instance.pk).first()
    if stored is not None:
        ticket_added(stored, sign=-1)


def _wizard_run_pre_delete(sender, instance, **kwargs):
    stored = sender.objects.filter(pk=instance.pk).first()
    if stored is not None:
        wizard_run_added(stored, sign=-1)


def connect():
    from django.db.models.signals import post_save, pre_delete, pre_save

    from diagnosis.models import Terminal, Ticket, WizardRun
    from knowledge.models import Category

    uid = "insight_rollups_"
    pre_save.connect(_terminal_pre_save, sender=Terminal, dispatch_uid=uid + "terminal_pre")
    post_save.connect(_terminal_post_save, sender=Terminal, dispatch_uid=uid + "terminal_post")
    pre_delete.connect(_terminal_pre_delete, sender=Terminal, dispatch_uid=uid + "terminal_del")
    pre_delete.connect(_category_pre_delete, sender=Category, dispatch_uid=uid + "category_del")
    pre_delete.connect(_ticket_pre_delete, sender=Ticket, dispatch_uid=uid + "ticket_del")
    pre_delete.connect(_wizard_run_pre_delete, sender=WizardRun, dispatch_uid=uid + "run_del")


# --- state -------------------------------------------------------------------------------------


def ready() -> bool:
    """May the dashboard read the rollups? Built by a full rebuild, in the current time zone
    (which must be the default one: the hooks count local days in it). One query."""
    zone = timezone.get_current_timezone_name()
    if zone != timezone.get_default_timezone_name():
        return False
    built = InsightRollupState.objects.filter(pk=1).values_list("time_zone", flat=True).first()
    return built == zone


def forget():
    """Stop reading the rollups (until the next full rebuild)."""
    InsightRollupState.objects.filter(pk=1).delete()


# --- rebuild -------------------------------------------------------------------------------------


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _lock():
    """Hold off the hooks while rebuilding (they wait, then add to the rebuilt rows). Readers
    keep reading the previous rows. SQLite: the write transaction is exclusive anyway."""
    if connection.vendor == "postgresql":
        tables = ", ".join(
            _table(m)
            for m in (
                InsightTicketRollup,
                InsightDurationRollup,
                InsightDurationValue,
                InsightWizardDay,
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")


def _data_days():
    """(first, last) local day holding a ticket or a wizard run, or None."""
    from django.db.models import Max, Min

    from diagnosis.models import Ticket, WizardRun

    ends = []
    for model in (Ticket, WizardRun):
        found = model.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
        if found["first"] is not None:
            ends.extend([found["first"], found["last"]])
    if not ends:
        return None
    return local_day(min(ends)), local_day(max(ends))


# The statements below quote table names (S608): every value is a parameter.


def _insert_chunk(cursor, days: list):
    """Day rows of the rollups for consecutive local `days`: one INSERT … SELECT each."""
    from diagnosis.models import Terminal, Ticket, WizardRun

    ops = connection.ops
    where = [
        ops.adapt_datetimefield_value(day_start(days[0])),
        ops.adapt_datetimefield_value(day_start(days[-1] + timedelta(days=1))),
    ]
    ticket, terminal, run = _table(Ticket), _table(Terminal), _table(WizardRun)
    day = RollupPeriod.DAY.value

    day_sql, day_params = _day_sql("t.created_at", days)
    cursor.execute(
        f"INSERT INTO {_table(InsightTicketRollup)} "  # noqa: S608
        "(period, day, acquirer_id, response_code, category_id, terminal_model, tickets) "
        f"SELECT %s, {day_sql}, t.acquirer_id, t.response_code, t.category_id, "
        "COALESCE(m.model, ''), COUNT(*) "
        f"FROM {ticket} t LEFT OUTER JOIN {terminal} m ON m.id = t.terminal_id "
        "WHERE t.created_at >= %s AND t.created_at < %s "
        "GROUP BY 2, t.acquirer_id, t.response_code, t.category_id, COALESCE(m.model, '')",
        [day, *day_params, *where],
    )
    for kind, field in DURATION_FIELDS.items():
        column = ops.quote_name(field)
        ms_sql, ms_params = _duration_sql(f"t.{column}", "t.created_at")
        cursor.execute(
            f"INSERT INTO {_table(InsightDurationValue)} "  # noqa: S608
            "(kind, bucket, day, acquirer_id, ms, tickets) "
            f"SELECT %s, {_bucket_sql('d.ms')}, d.day, d.acquirer_id, d.ms, COUNT(*) FROM ("
            f"SELECT {day_sql} AS day, t.acquirer_id AS acquirer_id, {ms_sql} AS ms "
            f"FROM {ticket} t WHERE t.created_at >= %s AND t.created_at < %s "
            f"AND t.{column} IS NOT NULL) d "
            "GROUP BY d.day, d.acquirer_id, d.ms",
            [kind, *day_params, *ms_params, *where],
        )
    day_sql, day_params = _day_sql("w.created_at", days)
    cursor.execute(
        f"INSERT INTO {_table(InsightWizardDay)} (day, outcome, reached, yes, no) "  # noqa: S608
        f"SELECT {day_sql}, w.outcome, COUNT(*), "
        "SUM(CASE WHEN w.solved IS TRUE THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN w.solved IS FALSE THEN 1 ELSE 0 END) "
        f"FROM {run} w WHERE w.created_at >= %s AND w.created_at < %s "
        "GROUP BY 1, w.outcome",
        [*day_params, *where],
    )


def _month_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _insert_durations_and_months(cursor, span, months):
    """Duration day rows from the values of `span`; month rows of `months` from the day rows."""
    ops = connection.ops
    day, month = RollupPeriod.DAY.value, RollupPeriod.MONTH.value
    days = [ops.adapt_datefield_value(span[0]), ops.adapt_datefield_value(span[1])]
    cursor.execute(
        f"INSERT INTO {_table(InsightDurationRollup)} "  # noqa: S608
        "(period, day, acquirer_id, kind, bucket, tickets, total_ms) "
        "SELECT %s, day, acquirer_id, kind, bucket, SUM(tickets), SUM(ms * tickets) "
        f"FROM {_table(InsightDurationValue)} WHERE day >= %s AND day <= %s "
        "GROUP BY day, acquirer_id, kind, bucket",
        [day, *days],
    )
    whole = [
        ops.adapt_datefield_value(months[0]),
        ops.adapt_datefield_value(next_month(months[1])),
    ]
    cursor.execute(
        f"INSERT INTO {_table(InsightTicketRollup)} "  # noqa: S608
        "(period, day, acquirer_id, response_code, category_id, terminal_model, tickets) "
        f"SELECT %s, {_month_sql('day')}, acquirer_id, response_code, category_id, "
        f"terminal_model, SUM(tickets) FROM {_table(InsightTicketRollup)} "
        "WHERE period = %s AND day >= %s AND day < %s "
        "GROUP BY 2, acquirer_id, response_code, category_id, terminal_model",
        [month, day, *whole],
    )
    cursor.execute(
        f"INSERT INTO {_table(InsightDurationRollup)} "  # noqa: S608
        "(period, day, acquirer_id, kind, bucket, tickets, total_ms) "
        f"SELECT %s, {_month_sql('day')}, acquirer_id, kind, bucket, SUM(tickets), "
        f"SUM(total_ms) FROM {_table(InsightDurationRollup)} "
        "WHERE period = %s AND day >= %s AND day < %s "
        "GROUP BY 2, acquirer_id, kind, bucket",
        [month, day, *whole],
    )


TABLES = (InsightTicketRollup, InsightDurationRollup, InsightDurationValue, InsightWizardDay)


@transaction.atomic
def rebuild(*, date_from=None, date_to=None) -> dict:
    """Recompute the rollups from the raw rows: every day (and record the state), or only the
    local days `date_from`..`date_to` (inclusive; the state is left as it is). Set-based: one
    INSERT … SELECT … GROUP BY per table and chunk of DAYS_PER_STATEMENT days, then the month
    rows from the day rows."""
    if connection.vendor not in ("sqlite", "postgresql"):
        raise NotSupportedError("The insight rollups support SQLite and PostgreSQL.")
    full = date_from is None and date_to is None
    _lock()
    if full:
        span = _data_days()
        for model in TABLES:
            model.objects.all().delete()
    else:
        span = (date_from, date_to) if date_from <= date_to else None
    if span is not None:
        months = (month_of(span[0]), month_of(span[1]))
        if not full:
            for model in (InsightDurationValue, InsightWizardDay):
                model.objects.filter(day__gte=span[0], day__lte=span[1]).delete()
            for model in (InsightTicketRollup, InsightDurationRollup):
                model.objects.filter(
                    period=RollupPeriod.DAY, day__gte=span[0], day__lte=span[1]
                ).delete()
                model.objects.filter(
                    period=RollupPeriod.MONTH, day__gte=months[0], day__lte=months[1]
                ).delete()
        with connection.cursor() as cursor:
            day = span[0]
            while day <= span[1]:
                last = min(day + timedelta(days=DAYS_PER_STATEMENT - 1), span[1])
                _insert_chunk(
                    cursor, [day + timedelta(days=i) for i in range((last - day).days + 1)]
                )
                day = last + timedelta(days=1)
            _insert_durations_and_months(cursor, span, months)
    if full:
        InsightRollupState.objects.update_or_create(
            pk=1,
            defaults={
                "time_zone": timezone.get_default_timezone_name(),
                "built_at": timezone.now(),
            },
        )
    return {
        "days": (span[1] - span[0]).days + 1 if span else 0,
        "first_day": span[0] if span else None,
        "last_day": span[1] if span else None,
        **{model._meta.model_name: model.objects.count() for model in TABLES},
    }
