"""`make bench`: load the real stack with a million tickets and measure every page.

PostgreSQL + production settings (DEBUG off) + gunicorn + whitenoise, wrk on loopback. Prints per
page: requests/s, p50/p95/p99 latency, SQL queries per request and the ratio to the ceiling (an
empty Django view on the same stack, same run). Writes bench/results.json and appends a dated
summary to bench/RESULTS.md. A script, not a test: numbers vary with the machine's load.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB_NAME = os.environ.get("BENCH_DB", "declinedesk_bench")
PORT = int(os.environ.get("BENCH_PORT", "8765"))
BASE = f"http://127.0.0.1:{PORT}"
DURATION = int(os.environ.get("BENCH_SECONDS", "8"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1))))
REUSE = os.environ.get("BENCH_REUSE") == "1"
# BENCH_ONLY=home,code: measure only these pages (and the ceiling), e.g. while tuning one page.
ONLY = {name for name in os.environ.get("BENCH_ONLY", "").split(",") if name}

ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "0",
    "SECRET_KEY": "benchmark-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DB_NAME}",
    "CONN_MAX_AGE": "600",
    "LOG_LEVEL": "WARNING",
    # One merchant's token creates every ticket of the run: its per-merchant limit (30 a minute)
    # is a rule, not a capacity, and would answer 429 to nearly all of them.
    "TICKET_CREATE_RATE": "0",
}

WRK_SCRIPT = r"""
local paths = {PATHS}
local body_template = {BODY}
local counter = 0
local thread_id = 0
local threads = {}
local next_id = 1
function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end
function init(args)
  thread_id = tonumber(tid) or 1
end
request = function()
  counter = counter + 1
  local path = paths[(counter - 1) % #paths + 1]
  if body_template ~= nil then
    local rrn = string.format("%02d%010d", thread_id, counter)
    local body = string.gsub(body_template, "RRNVALUE", rrn)
    -- wrk.format replaces wrk.headers with the table it is given: copy them (Authorization).
    local headers = {}
    for name, value in pairs(wrk.headers) do headers[name] = value end
    headers["Content-Type"] = "application/json"
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format("BENCH %d %d %d %d %d %d %d\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, errors))
end
"""


def log(message):
    print(message, flush=True)


def sh(command, **kwargs):
    return subprocess.run(command, shell=True, check=True, **kwargs)


def ensure_tools():
    if not shutil.which("wrk"):
        log("installing wrk (Debian package)")
        sh("apt-get update -qq")
        sh("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null")
    if subprocess.run("pg_isready -h 127.0.0.1 -p 5432 -q", shell=True).returncode != 0:
        sh("pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | head -n1) main start")
        time.sleep(2)
    redis_up = subprocess.run(
        [sys.executable, "-c", "import redis; redis.Redis(host='127.0.0.1', port=6379).ping()"],
        capture_output=True,
    )
    if redis_up.returncode == 0:
        ENV["REDIS_URL"] = "redis://127.0.0.1:6379/7"


def manage(*args, capture=False):
    env = {**os.environ, **ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )


def database_has_data() -> bool:
    query = "SELECT count(*) FROM diagnosis_ticket"
    result = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", DB_NAME, "-tAc", query],
        capture_output=True,
        text=True,
    )
    return (
        result.returncode == 0
        and result.stdout.strip().isdigit()
        and int(result.stdout) >= 1_000_000
    )


def prepare_database():
    if REUSE and database_has_data():
        log(f"reusing database {DB_NAME}")
        manage("migrate", "--noinput", "-v0")
        manage("rollup_insight", "--rebuild")
        return {}
    started = time.perf_counter()
    sh(f'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS {DB_NAME}"')
    sh(f'psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE {DB_NAME}"')
    manage("migrate", "--noinput", "-v0")
    manage("seed_demo")
    django_setup()
    from bench import generate

    timings = generate.build(stdout=log)
    # COPY bypasses the ticket services: build the insight rollups from the rows, as after any
    # bulk import (README, "Production").
    rolled = time.perf_counter()
    manage("rollup_insight", "--rebuild")
    timings["rollups_s"] = round(time.perf_counter() - rolled, 1)
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return timings


def django_setup():
    os.environ.update(ENV)
    import django

    if not getattr(django_setup, "done", False):
        django.setup()
        django_setup.done = True


def prepare_clients():
    """Bench users with sessions (cookies) and an API token; returns what the pages need."""
    django_setup()
    from io import StringIO

    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import Client

    from diagnosis.models import Merchant, Ticket, User

    merchant = Merchant.objects.filter(mid__startswith="99").order_by("pk").first()
    merchant_user, _ = User.objects.get_or_create(
        username="bench-merchant", defaults={"merchant": merchant, "email": "bm@example.com"}
    )
    agent, created = User.objects.get_or_create(
        username="bench-agent", defaults={"email": "ba@example.com"}
    )
    if created:
        agent.groups.add(Group.objects.get(name="Support agents"))
    editor, created = User.objects.get_or_create(
        username="bench-editor", defaults={"email": "be@example.com", "is_staff": True}
    )
    if created:
        editor.groups.add(Group.objects.get(name="Knowledge editors"))
    cookies = {}
    client = Client()
    client.force_login(merchant_user)
    cookies["merchant"] = client.cookies["sessionid"].value
    # Staff (agents, editors) pass a second factor, as the tests do: with a session from
    # force_login alone every desk page would be a redirect to the 2FA set-up, and fast.
    from tests import factories

    for name, user in (("agent", agent), ("editor", editor)):
        client = Client(HTTP_X_FORWARDED_PROTO="https")  # as the proxy says; else a redirect
        factories.sign_in(client, user)
        cookies[name] = client.cookies["sessionid"].value
    out = StringIO()
    call_command("create_api_token", "bench-merchant", stdout=out)
    token = out.getvalue().strip().split()[-1]
    ticket = Ticket.objects.filter(merchant=merchant).order_by("-created_at").first()
    acquirer = merchant.acquirer_id
    with open(ROOT / "tests" / "knowledge" / "search_queries.json", encoding="utf-8") as handle:
        queries = [q["q"] for q in json.load(handle)]
    return {
        "cookies": cookies,
        "token": token,
        "ticket": ticket.number,
        "acquirer": acquirer,
        "queries": queries,
        "tid": merchant.terminals.first().tid,
        "wizard_steps": wizard_steps(),
        "gap_year": gap_year_query(),
    }


def gap_year_query() -> str:
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    return f"start={today - timedelta(days=364):%Y-%m-%d}&end={today:%Y-%m-%d}"


def pages(ctx):
    from urllib.parse import quote

    merchant = {"Cookie": f"sessionid={ctx['cookies']['merchant']}"}
    agent = {"Cookie": f"sessionid={ctx['cookies']['agent']}"}
    editor = {"Cookie": f"sessionid={ctx['cookies']['editor']}"}
    body = json.dumps(
        {
            "terminal_id": ctx["tid"],
            "transaction_time": "2026-11-20T10:15:00+08:00",
            "amount": "88.50",
            "currency": "CNY",
            "card_number": "6228480012345678901",
            "response_code": "51",
            "rrn": "RRNVALUE",
            "trace_number": "000123",
            "description": "压测：刷卡被拒",
        }
    )
    return [
        ("ceiling", ["/bench/empty"], {}, None),
        ("home", ["/"], {}, None),
        ("code", ["/codes/51/"], {}, None),
        ("article", ["/articles/insufficient-balance/"], {}, None),
        ("search_api", [f"/api/v1/search?q={quote(q)}" for q in ctx["queries"]], {}, None),
        ("wizard_step", ctx["wizard_steps"], {}, None),
        ("merchant_tickets", ["/tickets/"], merchant, None),
        ("ticket_page", [f"/tickets/{ctx['ticket']}/"], merchant, None),
        ("desk_queue", ["/desk/"], agent, None),
        (
            "desk_queue_filtered",
            [f"/desk/?status=new&acquirer={ctx['acquirer']}&code=51"],
            agent,
            None,
        ),
        # The queue's 15-second htmx poll, nothing changed: 304 from the ETag (issue #18).
        ("desk_queue_poll", ["/desk/"], lambda: queue_poll_headers(agent), None),
        ("create_ticket", ["/api/v1/tickets"], {"Authorization": f"Bearer {ctx['token']}"}, body),
        # The content-gap page (issue 19): the default 30 days, and a whole year of searches
        # with every wizard run, from the per-day tables.
        ("gap_page", ["/admin/knowledge/searchqueryday/"], editor, None),
        ("gap_page_year", [f"/admin/knowledge/searchqueryday/?{ctx['gap_year']}"], editor, None),
    ]


def queue_poll_headers(agent):
    """The agent's poll request with the ETag the desk gives it now (HX-Request, If-None-Match)."""
    import urllib.request

    headers = {**agent, "HX-Request": "true", "X-Forwarded-Proto": "https"}
    with urllib.request.urlopen(urllib.request.Request(BASE + "/desk/", headers=headers)) as page:
        etag = page.headers["ETag"]
    return {**agent, "HX-Request": "true", "If-None-Match": etag}


def wizard_steps(count=20):
    """URLs of unfinished wizard steps (questions, not outcomes) along random walks."""
    import random

    from diagnosis.wizard.engine import walk
    from diagnosis.wizard.snapshot import live_tree

    rng = random.Random(7)
    tree = live_tree()
    steps = set()
    while len(steps) < count:
        tokens = []
        current = walk(tree, tokens)
        while current is not None and not current.finished:
            if tokens:
                steps.add(f"/diagnose/?v={tree.number}&a={'.'.join(tokens)}")
            options = [o["id"] for o in current.question.get("options") or []]
            tokens.append(rng.choice(options))
            current = walk(tree, tokens)
    return sorted(steps)[:count]


def start_task_worker():
    """One task worker beside gunicorn, at a lower CPU priority than the web workers (background
    work yields to requests: the usual set-up when both share a machine)."""
    env = {**os.environ, **ENV}
    return subprocess.Popen(
        ["nice", "-n", "10", sys.executable, "manage.py", "run_worker", "--interval", "0.2", "-v0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def task_counts(since):
    """Mail tasks (new-ticket notifications) enqueued / finished since `since`, and the queue."""
    django_setup()
    from django_tasks_db.models import DBTaskResult

    from config.tasks import queue_stats

    mail = DBTaskResult.objects.filter(task_path__endswith="notify_ticket_created")
    return {
        "enqueued": mail.filter(enqueued_at__gte=since).count(),
        "finished": mail.filter(finished_at__gte=since).count(),
        "failed": mail.filter(finished_at__gte=since, status="FAILED").count(),
        "queue": queue_stats(),
    }


def wait_for_drain(timeout=300):
    """Seconds until no task is ready or running (None if it did not drain in `timeout`)."""
    from config.tasks import queue_stats

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        stats = queue_stats()
        if stats["ready"] == 0 and stats["running"] == 0:
            return round(time.perf_counter() - started, 1)
        time.sleep(0.5)
    return None


def build_search_index():
    """What a worker does after an edit: build the index once and store it for every process."""
    started = time.perf_counter()
    out = manage("rebuild_search_index", "--force", capture=True).stdout.strip()
    django_setup()
    from knowledge.models import SearchIndexArtefact

    stored = SearchIndexArtefact.objects.order_by("-created_at").first()
    return {
        "command_s": round(time.perf_counter() - started, 1),
        "output": out,
        "artefact_mb": round(stored.size / 1e6, 1) if stored else None,
    }


def index_usage():
    django_setup()
    from bench import indexes

    return indexes.report()


def start_gunicorn():
    env = {**os.environ, **ENV}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--config",
            "config/gunicorn.py",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "--env",
            "DJANGO_SETTINGS_MODULE=bench.settings",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(120):  # the workers build the search index first (config/gunicorn.py)
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=1)
            return process
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not start")


def run_wrk(paths, headers, body, seconds):
    lua = WRK_SCRIPT.replace("{PATHS}", "{" + ",".join(json.dumps(p) for p in paths) + "}")
    lua = lua.replace("{BODY}", json.dumps(body) if body else "nil")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(lua)
        script = handle.name
    header_args = []
    for name, value in {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip", **headers}.items():
        header_args += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script,
            *header_args,
            BASE,
        ],
        capture_output=True,
        text=True,
    )
    os.unlink(script)
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {result.stdout}\n{result.stderr}")
    requests, duration_us, p50, p95, p99, status_errors, socket_errors = map(int, line.split()[1:])
    return {
        "rps": round(requests / (duration_us / 1e6), 1),
        "p50_ms": round(p50 / 1000, 2),
        "p95_ms": round(p95 / 1000, 2),
        "p99_ms": round(p99 / 1000, 2),
        "requests": requests,
        "errors": status_errors + socket_errors,
    }


def count_queries(paths, headers, body):
    """SQL queries for one request, measured in-process on the same database and settings."""
    django_setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_FORWARDED_PROTO="https")
    cookie = headers.get("Cookie")
    if cookie:
        client.cookies["sessionid"] = cookie.split("=", 1)[1]
    extra = {}
    for name in ("Authorization", "HX-Request", "If-None-Match"):
        if name in headers:
            extra["HTTP_" + name.upper().replace("-", "_")] = headers[name]
    path = paths[0]
    for _attempt in range(2):  # the second request shows the steady state (warm caches)
        with CaptureQueriesContext(connection) as captured:
            if body:
                payload = body.replace("RRNVALUE", f"99{int(time.time() * 1000) % 10**10:010d}")
                response = client.post(path, payload, content_type="application/json", **extra)
            else:
                response = client.get(path, **extra)
    expected = 304 if "HTTP_IF_NONE_MATCH" in extra else (201 if body else 200)
    if response.status_code != expected:  # wrk counts redirects as successes: say so here
        log(f"  warning: {path} answered {response.status_code} in-process, not {expected}")
    return len(captured)


def first_visit_bytes(path):
    """HTML + the CSS and JS it references, compressed as the server sends them."""
    import re

    def fetch(url):
        request = urllib.request.Request(
            url, headers={"Accept-Encoding": "gzip, br", "X-Forwarded-Proto": "https"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    html = fetch(BASE + path)
    total = len(html)
    import gzip

    try:
        text = gzip.decompress(html).decode()
    except OSError:
        text = html.decode()
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+\.(?:css|js))"', text):
        total += len(fetch(BASE + asset))
    return total


def static_headers(path):
    """The first stylesheet a page links: its fingerprinted name and its caching headers."""
    import re

    https = {"X-Forwarded-Proto": "https"}  # as the proxy says; else the app redirects
    with urllib.request.urlopen(urllib.request.Request(BASE + path, headers=https)) as response:
        html = response.read().decode()
    asset = re.search(r'href="(/static/[^"]+\.css)"', html).group(1)
    request = urllib.request.Request(BASE + asset, headers={"Accept-Encoding": "gzip", **https})
    with urllib.request.urlopen(request, timeout=10) as response:
        return {
            "asset": asset,
            "cache_control": response.headers.get("Cache-Control"),
            "content_encoding": response.headers.get("Content-Encoding"),
        }


def worker_rss_mb(master_pid):
    rss = []
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid):
            rss.append(int(fields["VmRSS"].split()[0]) / 1024)
    return [round(x, 1) for x in rss]


def main():
    started = time.perf_counter()
    ensure_tools()
    timings = prepare_database()
    manage("collectstatic", "--noinput", "-v0")
    ctx = prepare_clients()
    results = {"pages": {}, "data_build": timings, "workers": WORKERS, "connections": CONNECTIONS}
    results["indexes"] = index_usage()
    log(f"ticket table indexes: {results['indexes']['count']}")
    for name, query in results["indexes"]["indexes"].items():
        log(f"  {name:45} {query or 'UNUSED'}")
    results["search_index"] = build_search_index()
    log(f"search index: {results['search_index']}")
    worker = start_task_worker()
    log(f"task queue drained (tasks left by the set-up) in {wait_for_drain()} s")
    server = start_gunicorn()
    results["load_average_at_start"] = os.getloadavg()
    try:
        for name, paths, headers, body in pages(ctx):
            if ONLY and name not in ONLY and name != "ceiling":
                continue
            if callable(headers):  # taken just before the run (the queue poll's ETag)
                headers = headers()
            run_wrk(paths, headers, body, WARMUP)
            if body:
                wait_for_drain()  # the warm-up's tasks: the window below starts empty
            last_pk = newest_ticket_pk() if body else None
            window_start = now()
            measured = run_wrk(paths, headers, body, DURATION)
            if body:
                # What was really stored, not what wrk thinks: tickets per second, and every
                # request that did not store one is an error.
                created = tickets_after(last_pk)
                measured["stored_per_s"] = round(created / DURATION, 1)
                measured["errors"] = max(measured["errors"], measured["requests"] - created)
                # The mail tasks: enqueued and finished during the run (one worker beside
                # gunicorn), the queue left at its end, and how long it took to drain.
                during = task_counts(window_start)
                drained_in = wait_for_drain()
                after = task_counts(window_start)
                results["tasks"] = {
                    "mail_tasks_enqueued_per_s": round(during["enqueued"] / DURATION, 1),
                    "mail_tasks_finished_per_s_during_run": round(during["finished"] / DURATION, 1),
                    "queue_depth_at_end": during["queue"]["ready"],
                    "drained_after_s": drained_in,
                    "mail_tasks_finished_per_s_overall": round(
                        after["finished"] / (DURATION + (drained_in or 0)), 1
                    ),
                    "failed": after["failed"],
                    "queue_after_drain": after["queue"],
                }
                log(f"tasks: {results['tasks']}")
            measured["queries"] = count_queries(paths, headers, body)
            results["pages"][name] = measured
            log(
                f"{name:22} {measured['rps']:>8} rps  p50 {measured['p50_ms']:>7} ms  "
                f"p95 {measured['p95_ms']:>7} ms  p99 {measured['p99_ms']:>7} ms  "
                f"queries {measured['queries']:>3}  errors {measured['errors']}"
            )
        results["first_visit_bytes"] = {
            "home": first_visit_bytes("/"),
            "code": first_visit_bytes("/codes/51/"),
        }
        results["static_headers"] = static_headers("/")
        results["worker_rss_mb"] = worker_rss_mb(server.pid)
        results["load_average_at_end"] = os.getloadavg()
    finally:
        worker.send_signal(signal.SIGTERM)
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
    ceiling = results["pages"]["ceiling"]["rps"]
    results["ceiling_rps"] = ceiling
    for page in results["pages"].values():
        page["ratio"] = round(page["rps"] / ceiling, 3) if ceiling else None
    results["duplicate_ticket_numbers"] = duplicate_numbers()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    write_results(results)


def now():
    django_setup()
    from django.utils import timezone

    return timezone.now()


def newest_ticket_pk() -> int:
    django_setup()
    from diagnosis.models import Ticket

    return Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def tickets_after(pk) -> int:
    from diagnosis.models import Ticket

    return Ticket.objects.filter(pk__gt=pk).count()


def duplicate_numbers():
    django_setup()
    from django.db.models import Count

    from diagnosis.models import Ticket

    return Ticket.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).count()


def write_results(results):
    out = ROOT / "bench" / "results.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    lines = [
        f"\n## {datetime.now():%Y-%m-%d %H:%M} — {os.cpu_count()} cores, "
        f"{WORKERS} gunicorn workers, {CONNECTIONS} connections, {DURATION}s per page",
        "",
        "| page | rps | p50 ms | p95 ms | p99 ms | queries | ratio to ceiling | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, page in results["pages"].items():
        lines.append(
            f"| {name} | {page['rps']} | {page['p50_ms']} | {page['p95_ms']} | {page['p99_ms']} | "
            f"{page['queries']} | {page['ratio']} | {page['errors']} |"
        )
    lines.append("")
    lines.append(
        f"First visit (compressed HTML+CSS+JS): {results.get('first_visit_bytes')} bytes; "
        f"static files: {results.get('static_headers')}; "
        f"tickets stored per second: "
        f"{results['pages'].get('create_ticket', {}).get('stored_per_s')}; "
        f"worker RSS after the run: {results.get('worker_rss_mb')} MB; duplicate ticket numbers: "
        f"{results['duplicate_ticket_numbers']}; data build: {results['data_build']}; "
        f"elapsed {results['elapsed_s']} s; load average (1/5/15 min) at the start "
        f"{results.get('load_average_at_start')}, at the end {results.get('load_average_at_end')} "
        "(the machine is shared: other work raises it)."
    )
    tasks = results.get("tasks")
    if tasks:
        lines += [
            "",
            "Task queue during `create_ticket` (one `run_worker` beside gunicorn, `nice 10`): "
            f"{tasks['mail_tasks_enqueued_per_s']} mail tasks enqueued/s, "
            f"{tasks['mail_tasks_finished_per_s_during_run']} finished/s during the run, "
            f"{tasks['queue_depth_at_end']} waiting at its end, drained "
            f"{tasks['drained_after_s']} s later ({tasks['mail_tasks_finished_per_s_overall']}/s "
            f"overall); {tasks['failed']} failed; after: {tasks['queue_after_drain']}.",
        ]
    search = results.get("search_index")
    if search:
        lines += [
            "",
            f"Search index built once by `rebuild_search_index` in {search['command_s']} s "
            f"({search['output']}), stored artefact {search['artefact_mb']} MB; the gunicorn "
            "workers map it instead of building.",
        ]
    usage = results.get("indexes")
    if usage:
        lines += ["", f"Ticket table: {usage['count']} indexes, each used by (EXPLAIN):", ""]
        lines += ["| index | first query whose plan uses it |", "|---|---|"]
        lines += [
            f"| {name} | {query or '**unused**'} |" for name, query in usage["indexes"].items()
        ]
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as handle:
        if handle.tell() == 0:
            handle.write("# Benchmark results\n\nAppended by `make bench` (bench/run.py).\n")
        handle.write("\n".join(lines) + "\n")
    log(f"wrote {out} and bench/RESULTS.md")
    _ = statistics


if __name__ == "__main__":
    main()
