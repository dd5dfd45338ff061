"""Build, catch up or check the daily rollups behind the agents' dashboard (/desk/insight/).

    manage.py rollup_insight --rebuild                  every day; the dashboard reads them after
    manage.py rollup_insight --from 2026-03-01 --to 2026-03-31    redo these local days only
    manage.py rollup_insight --check [--from … --to …] [--acquirer ID]   rollups == raw rows?
    manage.py rollup_insight --off                      the dashboard reads raw rows again
    manage.py rollup_insight                            show the state

The ticket and wizard services keep the rollups exact as they write; run --rebuild once after
migrating, and again (or --from/--to for the days concerned) after anything that writes tickets
or wizard runs behind the services' back (bulk loads, COPY, fixtures, raw SQL). Ticket and wizard
writes wait while a rebuild runs (PostgreSQL: the rollup tables are locked; readers go on).
"""

import time
from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from diagnosis.insight import aggregates, rollups
from diagnosis.insight.aggregates import InsightFilters
from diagnosis.insight.rollups import TABLES
from diagnosis.models import InsightRollupState

COMPARED = (
    "total",
    "over_time",
    "codes",
    "categories",
    "acquirers",
    "terminal_models",
    "wizard",
    "first_response",
    "resolution",
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value}") from None


class Command(BaseCommand):
    help = "Build (--rebuild), catch up (--from/--to), check (--check) the dashboard rollups."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--rebuild", action="store_true", help="rebuild every day")
        action.add_argument("--check", action="store_true", help="compare with the raw rows")
        action.add_argument("--off", action="store_true", help="stop reading the rollups")
        parser.add_argument("--from", dest="date_from", type=_date, help="first local day")
        parser.add_argument("--to", dest="date_to", type=_date, help="last local day")
        parser.add_argument("--acquirer", type=int, help="--check: one acquirer (bank id)")

    def handle(self, *args, rebuild, check, off, date_from, date_to, acquirer, **options):
        state = InsightRollupState.objects.filter(pk=1).first()
        if off:
            rollups.forget()
            self.stdout.write("Rollups off: the dashboard reads raw rows until --rebuild.")
            return
        if check:
            self.check_rollups(state, date_from, date_to, acquirer)
            return
        if rebuild:
            if date_from or date_to:
                raise CommandError("--rebuild redoes every day; use --from/--to without it.")
            self.run(self.style.SUCCESS("Rebuilt"))
            return
        if date_from or date_to:
            if state is None:
                raise CommandError("The rollups were never built: run --rebuild first.")
            today = timezone.localdate()
            date_from, date_to = date_from or date_to, date_to or today
            if date_from > date_to:
                raise CommandError("--from is after --to.")
            self.run("Caught up", date_from=date_from, date_to=date_to)
            return
        if state is None:
            self.stdout.write("Rollups not built: the dashboard reads raw rows. Run --rebuild.")
        else:
            self.stdout.write(f"Rollups built {state.built_at:%Y-%m-%d %H:%M} ({state.time_zone}).")

    def run(self, label, **days):
        started = time.perf_counter()
        result = rollups.rebuild(**days)
        seconds = time.perf_counter() - started
        span = f"{result['first_day']} … {result['last_day']}" if result["days"] else "no data"
        rows = ", ".join(f"{m._meta.model_name} {result[m._meta.model_name]}" for m in TABLES)
        self.stdout.write(f"{label}: {span} in {seconds:.1f} s. Rows: {rows}.")

    def check_rollups(self, state, date_from, date_to, acquirer):
        if state is None or not rollups.ready():
            raise CommandError("The rollups are not in use here: run --rebuild first.")
        date_to = date_to or timezone.localdate()
        date_from = date_from or date_to - timedelta(days=29)
        if date_from > date_to:
            raise CommandError("--from is after --to.")
        filters = InsightFilters(date_from=date_from, date_to=date_to, acquirer_id=acquirer)
        raw = aggregates.compute(filters, aggregates.Source(filters))
        rolled = aggregates.compute(filters, aggregates.RollupSource(filters))
        different = [key for key in COMPARED if raw[key] != rolled[key]]
        if different:
            raise CommandError(
                f"Rollups differ from the raw rows ({date_from} … {date_to}): "
                f"{', '.join(different)}. Run --from {date_from} --to {date_to}."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Rollups match the raw rows ({date_from} … {date_to}, {raw['total']} tickets)."
            )
        )
