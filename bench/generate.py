"""Build the benchmark data set in PostgreSQL, reproducibly (fixed seed) and fast (COPY).

2,000 merchants, 5,000 terminals, 1,000,000 tickets over two years (one "created" event each),
10,000 knowledge articles (variations of the real ones) and 1,000 wizard runs per day.
Run through bench/run.py, which prepares the database first.
"""

import datetime as dt
import random
import time
from contextlib import contextmanager
from decimal import Decimal

from django.apps import apps
from django.db import connection, models, transaction
from django.utils import timezone

SEED = 20261125
MERCHANTS = 2_000
TERMINALS = 5_000
TICKETS = 1_000_000
ARTICLES = 10_000
WIZARD_RUNS_PER_DAY = 1_000
DAYS = 730

# Realistic mix: balance, PIN, generic issuer refusals and communication failures dominate.
CODE_WEIGHTS = {
    "51": 30,
    "55": 12,
    "05": 10,
    "96": 6,
    "54": 5,
    "14": 5,
    "61": 5,
    "A0": 4,
    "91": 4,
    "01": 3,
    "68": 3,
    "75": 3,
    "57": 2,
    "62": 2,
    "41": 1,
    "43": 1,
    "03": 1,
    "58": 1,
    "94": 1,
    "98": 1,
    "12": 1,
    "13": 1,
    "19": 1,
    "22": 1,
    "99": 1,
}


def copy_rows(model, rows: list[dict]) -> None:
    """COPY plain dict rows into a model's table; unspecified columns take field defaults."""
    fields = [
        f
        for f in model._meta.concrete_fields
        if not isinstance(f, models.GeneratedField) and not (f.primary_key and f.name == "id")
    ]
    defaults = {}
    for field in fields:
        if field.has_default():
            defaults[field.attname] = field.get_default()
        elif field.null:
            defaults[field.attname] = None
        else:
            defaults[field.attname] = ""
    columns = [f.column for f in fields]
    table = model._meta.db_table
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg 3 cursor
        sql = f'COPY "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) FROM STDIN'
        with raw.copy(sql) as copy:
            for row in rows:
                copy.write_row([row.get(f.attname, defaults[f.attname]) for f in fields])


@contextmanager
def indexes_dropped(model):
    """Bulk loads are much faster without secondary indexes: drop them, load, rebuild them.

    Foreign-key triggers are off meanwhile (session_replication_role = replica, the usual bulk
    load setting; the generated rows reference existing rows by construction).
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute("SET session_replication_role = DEFAULT")


def weighted_codes(rng: random.Random, n: int) -> list[str]:
    codes = list(CODE_WEIGHTS)
    return rng.choices(codes, weights=[CODE_WEIGHTS[c] for c in codes], k=n)


def build(stdout=print) -> dict:
    rng = random.Random(SEED)
    Bank = apps.get_model("diagnosis", "Bank")
    Merchant = apps.get_model("diagnosis", "Merchant")
    Terminal = apps.get_model("diagnosis", "Terminal")
    Ticket = apps.get_model("diagnosis", "Ticket")
    TicketEvent = apps.get_model("diagnosis", "TicketEvent")
    TicketCounter = apps.get_model("diagnosis", "TicketCounter")
    Category = apps.get_model("knowledge", "Category")
    ResponseCode = apps.get_model("knowledge", "ResponseCode")
    Article = apps.get_model("knowledge", "Article")
    timings = {}
    now = timezone.now()

    started = time.perf_counter()
    bank_ids = list(Bank.objects.values_list("pk", flat=True))
    with transaction.atomic():
        copy_rows(
            Merchant,
            [
                {
                    "name": f"压测商户 {i:04d}",
                    "mid": f"{990000000000000 + i:015d}",
                    "acquirer_id": rng.choice(bank_ids),
                    "created_at": now,
                }
                for i in range(MERCHANTS)
            ],
        )
    merchants = list(Merchant.objects.filter(mid__startswith="99").values_list("pk", "acquirer_id"))
    with transaction.atomic():
        copy_rows(
            Terminal,
            [
                {
                    "tid": f"9{i:07d}",
                    "merchant_id": merchants[i % len(merchants)][0],
                    "model": rng.choice(["PAX A920", "PAX S90", "Newland ME31", "Centerm K9"]),
                    "location": "收银台",
                }
                for i in range(TERMINALS)
            ],
        )
    terminals = list(
        Terminal.objects.filter(tid__startswith="9").values_list("pk", "tid", "merchant_id")
    )
    merchant_acquirer = dict(merchants)
    timings["merchants_terminals_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    category_by_code = dict(ResponseCode.objects.values_list("code", "category_id"))
    codes = weighted_codes(rng, TICKETS)
    start = now - dt.timedelta(days=DAYS)
    span = DAYS * 86400
    offsets = sorted(rng.randrange(span) for _ in range(TICKETS))
    per_year: dict[int, int] = {}
    rows = []
    for i in range(TICKETS):
        created = start + dt.timedelta(seconds=offsets[i])
        year = created.year
        per_year[year] = per_year.get(year, 0) + 1
        terminal_pk, tid, merchant_pk = terminals[rng.randrange(len(terminals))]
        age_days = (now - created).days
        if age_days > 30:
            status = rng.choices(["closed", "resolved"], weights=[4, 1])[0]
        else:
            status = rng.choice(["new", "in_progress", "waiting_merchant", "escalated", "resolved"])
        code = codes[i]
        rows.append(
            {
                "number": f"DD-{year}-{per_year[year]:06d}",
                "merchant_id": merchant_pk,
                "acquirer_id": merchant_acquirer[merchant_pk],
                "terminal_id": terminal_pk,
                "tid": tid,
                "transaction_time": created - dt.timedelta(minutes=rng.randrange(5, 600)),
                "amount": Decimal(rng.randrange(100, 2_000_000)) / 100,
                "currency": "CNY",
                "card_masked": f"{rng.randrange(10000):04d}",
                "card_type": rng.choice(["debit", "credit", "unknown"]),
                "response_code": code,
                "category_id": category_by_code.get(code),
                "rrn": f"{rng.randrange(10**12):012d}",
                "trace_number": f"{rng.randrange(10**6):06d}",
                "batch_number": f"{rng.randrange(10**6):06d}",
                "description": "顾客刷卡被拒，终端显示交易失败。",
                "status": status,
                "priority": rng.choices(["low", "normal", "high", "urgent"], weights=[1, 8, 2, 1])[
                    0
                ],
                "first_response_due": created + dt.timedelta(hours=4),
                "first_responded_at": created + dt.timedelta(hours=1) if status != "new" else None,
                "created_at": created,
                "updated_at": created,
            }
        )
    with transaction.atomic(), indexes_dropped(Ticket):
        copy_rows(Ticket, rows)
        for year, last in per_year.items():
            TicketCounter.objects.update_or_create(year=year, defaults={"last": last})
    del rows
    timings["tickets_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    with transaction.atomic(), indexes_dropped(TicketEvent), connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{TicketEvent._meta.db_table}" (ticket_id, kind, is_internal, body, '
            "old_value, new_value, created_at) SELECT id, 'created', false, '', '', '', created_at "
            f'FROM "{Ticket._meta.db_table}" WHERE number LIKE %s',
            ["DD-%"],
        )
    timings["events_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    build_articles(Article)
    timings["articles_s"] = round(time.perf_counter() - started, 1)
    _ = Category  # categories come from load_knowledge

    started = time.perf_counter()
    timings["wizard_runs"] = build_wizard_runs(rng, now)
    timings["wizard_runs_s"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    timings["gap_rows"] = build_gap_rows(rng, now)
    timings["gap_rows_s"] = round(time.perf_counter() - started, 1)

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    stdout(f"data built: {timings}")
    return timings


def build_articles(Article, count=ARTICLES) -> None:
    """Variations of the published articles up to `count` articles, with their response codes
    and their search analyses (bulk_create skips Article.save(), which stores those)."""
    from knowledge.search import analysis

    originals = list(
        Article.objects.filter(status="published")
        .select_related("category")
        .prefetch_related("codes")
    )
    suffixes = ["（门店版）", "（夜间）", "（连锁店）", "（新员工）", "（节假日）"]
    new_articles = []
    for i in range(count - len(originals)):
        base = originals[i % len(originals)]
        clone = Article(
            **{
                f.attname: getattr(base, f.attname)
                for f in Article._meta.concrete_fields
                if not f.primary_key and f.attname not in {"slug"}
            }
        )
        clone.slug = f"{base.slug}-v{i:05d}"
        clone.title_zh = f"{base.title_zh}{suffixes[i % len(suffixes)]} #{i}"
        clone.title_en = f"{base.title_en} (variant {i})"
        clone.source_hash = ""
        new_articles.append(clone)
    # Only the titles differ from the originals: each distinct text is tokenised once (memo).
    memo: dict = {}
    codes_of = {a.pk: sorted(c.code for c in a.codes.all()) for a in originals}
    for start in range(0, len(new_articles), analysis.BATCH):
        batch = new_articles[start : start + analysis.BATCH]
        items = []
        for i, clone in enumerate(batch, start):
            base = originals[i % len(originals)]
            codes = codes_of[base.pk]
            fields = analysis.article_fields(clone, codes, base.category)
            stamp = analysis.article_stamp(codes, base.category)
            items.append((fields, analysis.article_phrases(clone), stamp))
        for clone, blob in zip(batch, analysis.blobs(items, memo=memo), strict=True):
            clone.search_terms = blob
    Article.objects.bulk_create(new_articles, batch_size=2000)
    Through = Article.codes.through
    slug_to_codes = {a.slug: [c.pk for c in a.codes.all()] for a in originals}
    links = []
    for clone in Article.objects.filter(slug__contains="-v").only("pk", "slug"):
        base_slug = clone.slug.rsplit("-v", 1)[0]
        links.extend(
            Through(article_id=clone.pk, responsecode_id=c)
            for c in slug_to_codes.get(base_slug, [])
        )
    Through.objects.bulk_create(links, batch_size=5000)


def build_gap_rows(rng: random.Random, now) -> int:
    """A year of content-gap logs (knowledge/gaps/bench.py) and the wizard runs per path."""
    from django.conf import settings

    from knowledge.gaps import bench as gap_bench
    from knowledge.models import SearchQueryDay, UnknownCodeDay

    today = now.date()
    searches = gap_bench.search_rows(rng=rng, today=today)
    codes = gap_bench.unknown_code_rows(rng=rng, today=today)
    with transaction.atomic():
        copy_rows(SearchQueryDay, searches)
        copy_rows(UnknownCodeDay, codes)
        with connection.cursor() as cursor:
            cursor.execute(gap_bench.WIZARD_PATHS_SQL, [settings.TIME_ZONE])
            paths = cursor.rowcount
    return len(searches) + len(codes) + paths


def build_wizard_runs(rng: random.Random, now) -> int:
    """1,000 anonymous wizard runs per day over the period, through the wizard's own model."""
    try:
        from diagnosis.wizard.bench import wizard_run_rows  # written with the wizard
    except ImportError:
        return 0
    WizardRun, rows = wizard_run_rows(rng=rng, now=now, days=DAYS, per_day=WIZARD_RUNS_PER_DAY)
    with transaction.atomic():
        copy_rows(WizardRun, rows)
    return len(rows)
