"""`make soak`: the production stack under a mixed load, with faults injected on a schedule.

A script, not a test (numbers vary with the machine). The stack of `make bench` (bench/run.py:
bench data in PostgreSQL, production settings, gunicorn with config/gunicorn.py, one task worker
and the scheduler), but with a PostgreSQL cluster and a redis-server of its own (private data
directory and ports), so that restarting or killing them disturbs nothing else on the machine.

Client threads send a mix: public pages (home, code and article pages, the search page, some
with a card number in the URL), the search API, wizard steps, the merchant's ticket list (page
and API) and ticket creation through the API (each with a unique marker and a card number typed
in the description). One phase per fault, each SOAK_PHASE_SECONDS long, the fault injected
FAULT_AFTER seconds into it:

  baseline · kill -9 a gunicorn worker · CLIENT PAUSE Redis 5 s · Redis unreachable 20 s
  (killed, started again empty) · PostgreSQL restart · a burst of SOAK_BURST connections · cool-down

Printed per phase: requests, errors by kind (5xx by status, exceptions by name), p50/p99 overall
and for public pages; /healthz states seen; the recovery time of the fault. At the end: tickets
answered 201 vs stored (lost, phantom, duplicate numbers), gunicorn worker RSS before/after (and
the respawned worker's peak), card numbers found in the logs. Appends to bench/RESULTS.md.

Scale (environment): SOAK_TICKETS (1,000,000), SOAK_ARTICLES (10,000), SOAK_MERCHANTS (2,000),
SOAK_TERMINALS (5,000), SOAK_WIZARD_RUNS_PER_DAY (1,000), SOAK_PHASE_SECONDS (60: about eight
minutes in all), SOAK_CLIENTS (16 threads), SOAK_BURST (200), SOAK_WORKERS (2 per core),
SOAK_REUSE=1 (keep the data of an earlier run of the same scale). A small run:
`SOAK_TICKETS=20000 SOAK_ARTICLES=500 SOAK_PHASE_SECONDS=25 make soak`.
"""

import glob
import http.client
import json
import os
import random
import re
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _int(name, default):
    return int(os.environ.get(name, str(default)))


TICKETS = _int("SOAK_TICKETS", 1_000_000)
ARTICLES = _int("SOAK_ARTICLES", 10_000)
MERCHANTS = _int("SOAK_MERCHANTS", 2_000)
TERMINALS = _int("SOAK_TERMINALS", 5_000)
WIZARD_RUNS_PER_DAY = _int("SOAK_WIZARD_RUNS_PER_DAY", 1_000)
PHASE_SECONDS = _int("SOAK_PHASE_SECONDS", 60)
CLIENTS = _int("SOAK_CLIENTS", 16)
BURST = _int("SOAK_BURST", 200)
PG_PORT = _int("SOAK_PG_PORT", 55432)
REDIS_PORT = _int("SOAK_REDIS_PORT", 56379)
FAULT_AFTER = min(5, PHASE_SECONDS // 4)
REUSE = os.environ.get("SOAK_REUSE") == "1"
DB_NAME = f"declinedesk_soak_{TICKETS}_{ARTICLES}"

# bench/run.py reads these when imported: the soak's own database, port and worker count.
os.environ["BENCH_DB"] = DB_NAME
os.environ.setdefault("BENCH_PORT", os.environ.get("SOAK_PORT", "8767"))
if os.environ.get("SOAK_WORKERS"):
    os.environ["BENCH_WORKERS"] = os.environ["SOAK_WORKERS"]

from bench import run as stack  # noqa: E402

BASE = stack.BASE
WORK = Path(tempfile.mkdtemp(prefix="declinedesk-soak-"))
LOGS = {"gunicorn": WORK / "gunicorn.log", "access": WORK / "access.log",
        "worker": WORK / "worker.log", "scheduler": WORK / "scheduler.log"}  # fmt: skip
# The card numbers the load sends (in URLs, in ticket text, in the API's card field): none may
# reach a log line in any of its forms.
CARDS = ("6222021234567890123", "6228480012345678901")
CARD_TEXT = "顾客卡号 6222 0212 3456 7890 123 刷卡被拒"
stack.ENV.update(
    {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PG_PORT}/{DB_NAME}",
        "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0",
        "TICKET_CREATE_RATE": "100000/m",  # the load is one merchant: no 429s in the counts
        "SEARCH_INDEX_DIR": str(WORK / "search"),
        "LOG_LEVEL": "WARNING",
    }
)
log = stack.log


# --- the private PostgreSQL and Redis ---------------------------------------------------------
class Postgres:
    def __init__(self):
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.data = Path(os.environ.get("SOAK_PG_DATA", "/tmp/declinedesk-soak-pg"))

    def _as_postgres(self, *args, check=True):
        command = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        # No pipes: a server started here would hold them open (its output goes to -l).
        return subprocess.run(
            command, check=check, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip

    def start(self):
        if not (self.data / "PG_VERSION").exists():
            self.data.mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                shutil.chown(self.data, "postgres", "postgres")
            self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust")
        if self._as_postgres("pg_ctl", "-D", str(self.data), "status", check=False).returncode:
            self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"),
                              "-o", f"-p {PG_PORT} -k /tmp -c max_connections=300",
                              "-w", "start")  # fmt: skip

    def restart(self):
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.data / "server.log"),
                          "-m", "fast", "-w", "restart",
                          "-o", f"-p {PG_PORT} -k /tmp -c max_connections=300")  # fmt: skip

    def stop(self):
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)


class Redis:
    def __init__(self):
        self.process = None

    def start(self):
        import redis

        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(REDIS_PORT),
             "--save", "", "--appendonly", "no", "--dir", str(WORK)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=REDIS_PORT).ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise SystemExit("redis-server did not start") from None
                time.sleep(0.05)

    def pause(self, seconds):
        import redis

        redis.Redis(port=REDIS_PORT).client_pause(int(seconds * 1000), all=True)

    def kill(self):
        self.process.kill()
        self.process.wait(10)

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


# --- the data and the stack -----------------------------------------------------------------
def prepare_database():
    exists = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", "postgres", "-d", DB_NAME,
         "-tAc", "SELECT count(*) FROM diagnosis_ticket"],
        capture_output=True, text=True,
    )  # fmt: skip
    if REUSE and exists.returncode == 0 and exists.stdout.strip().isdigit():
        log(f"reusing database {DB_NAME} ({exists.stdout.strip()} tickets)")
        stack.manage("migrate", "--noinput", "-v0")
        return {}
    started = time.perf_counter()
    psql = f"psql -h 127.0.0.1 -p {PG_PORT} -U postgres -qc"
    stack.sh(f'{psql} "DROP DATABASE IF EXISTS {DB_NAME}"')
    stack.sh(f'{psql} "CREATE DATABASE {DB_NAME}"')
    stack.manage("migrate", "--noinput", "-v0")
    stack.manage("seed_demo")
    stack.django_setup()
    from bench import generate

    generate.TICKETS, generate.MERCHANTS, generate.TERMINALS = TICKETS, MERCHANTS, TERMINALS
    generate.WIZARD_RUNS_PER_DAY = WIZARD_RUNS_PER_DAY
    generate.build_articles.__defaults__ = (ARTICLES,)
    timings = generate.build(stdout=log)
    stack.manage("rollup_insight", "--rebuild")
    timings["total_s"] = round(time.perf_counter() - started, 1)
    return timings


def start_gunicorn():
    env = {**os.environ, **stack.ENV}
    with open(LOGS["gunicorn"], "a") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "config/gunicorn.py",
             "--workers", str(stack.WORKERS), "--bind", f"127.0.0.1:{stack.PORT}",
             "--log-level", "warning", "--access-logfile", str(LOGS["access"]),
             "--env", "DJANGO_SETTINGS_MODULE=bench.settings"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    for _ in range(240):
        try:
            urllib.request.urlopen(BASE + "/healthz", timeout=1)
            return process
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not start")


def start_background(name, *args):
    env = {**os.environ, **stack.ENV}
    with open(LOGS[name], "a") as out:
        return subprocess.Popen(
            ["nice", "-n", "10", sys.executable, "manage.py", *args],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


BACKGROUND = {"worker": ("run_worker", "--interval", "0.2", "-v0"), "scheduler": ("run_scheduler",)}


def supervise(background, recorder, stop):
    """Start the task worker or the scheduler again when it exits (what systemd's
    Restart=always does in production); each restart is reported with its phase."""
    while not stop.is_set():
        for name, process in list(background.items()):
            if process.poll() is not None:
                recorder.restarts.append((recorder.phase, name, process.returncode))
                background[name] = start_background(name, *BACKGROUND[name])
        time.sleep(0.5)


def workers_of(master_pid) -> dict[int, float]:
    """pid -> RSS in MB of the gunicorn workers."""
    found = {}
    for child in Path("/proc").iterdir():
        if not child.name.isdigit():
            continue
        try:
            status = (child / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            found[int(child.name)] = round(int(fields["VmRSS"].split()[0]) / 1024, 1)
    return found


# --- the load ---------------------------------------------------------------------------------
class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.phase = "set-up"
        self.rows = []  # (phase, kind, started, seconds, outcome)
        self.answered = {}  # marker -> ticket number (201)
        self.health = []  # (phase, time, status code or exception, body status)
        self.refused = {}  # status -> the first answer of a ticket creation refused with it
        self.restarts = []  # (phase, process name, exit code): task worker, scheduler

    def add(self, kind, started, seconds, outcome):
        with self.lock:
            self.rows.append((self.phase, kind, started, seconds, outcome))


def _marker():
    return "soak" + "".join(random.choices(string.ascii_lowercase, k=16))


class Client(threading.Thread):
    def __init__(self, recorder, ctx, stop):
        super().__init__(daemon=True)
        self.recorder, self.ctx, self.stop = recorder, ctx, stop
        self.connection = None

    def request(self, method, path, headers=None, body=None):
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", stack.PORT, timeout=30)
        try:
            headers = {"X-Forwarded-Proto": "https", **(headers or {})}  # as the proxy says
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
            data = response.read()
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
                self.connection = None
            return response.status, response.getheader("Content-Type", ""), data
        except Exception:
            self.connection.close()
            self.connection = None
            raise

    def pick(self):
        ctx = self.ctx
        r = random.random()
        if r < 0.35:
            path = random.choice(ctx["public"])
            return "page", "GET", path, {}, None
        if r < 0.55:
            return "search_api", "GET", random.choice(ctx["search"]), {}, None
        if r < 0.65:
            return "wizard", "GET", random.choice(ctx["wizard"]), {}, None
        if r < 0.75:
            return "merchant_list", "GET", "/tickets/", ctx["merchant"], None
        if r < 0.85:
            return "merchant_api", "GET", "/api/v1/tickets", ctx["token"], None
        marker = _marker()
        body = dict(
            ctx["ticket_body"],
            description=f"{marker} {CARD_TEXT}",
            rrn="".join(random.choices(string.digits, k=12)),  # a valid reference number
        )
        headers = {**ctx["token"], "Content-Type": "application/json"}
        return "create", "POST", "/api/v1/tickets", headers, json.dumps(body).encode()

    def run(self):
        while not self.stop.is_set():
            kind, method, path, headers, body = self.pick()
            started = time.monotonic()
            try:
                status, content_type, data = self.request(method, path, headers, body)
            except Exception as error:  # noqa: BLE001 - every failure is counted by kind
                self.recorder.add(kind, started, time.monotonic() - started, type(error).__name__)
                continue
            outcome = status
            if path.startswith("/api/") and "json" not in content_type:
                outcome = f"{status}-not-json"
            self.recorder.add(kind, started, time.monotonic() - started, outcome)
            if kind == "create" and status != 201 and status < 500:
                self.recorder.refused.setdefault(status, data[:300].decode(errors="replace"))
            if kind == "create" and status == 201:
                marker = json.loads(body)["description"].split()[0]
                with self.recorder.lock:
                    self.recorder.answered[marker] = json.loads(data)["number"]


def watch_health(recorder, stop):
    while not stop.is_set():
        at = time.monotonic()
        try:
            with urllib.request.urlopen(BASE + "/healthz", timeout=5) as response:
                status, body = response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            status, body = error.code, _json(error.read())
        except Exception as error:  # noqa: BLE001
            status, body = type(error).__name__, {}
        recorder.health.append((recorder.phase, at, status, body.get("status", "")))
        time.sleep(0.25)


def _json(data):
    try:
        return json.loads(data)
    except ValueError:
        return {}


def burst(recorder):
    barrier = threading.Barrier(BURST)

    def one():
        connection = http.client.HTTPConnection("127.0.0.1", stack.PORT, timeout=60)
        started = time.monotonic()
        try:
            barrier.wait(30)
            connection.request("GET", "/codes/51/", headers={"X-Forwarded-Proto": "https"})
            status = connection.getresponse().status
        except Exception as error:  # noqa: BLE001
            status = type(error).__name__
        finally:
            connection.close()
        recorder.add("burst", started, time.monotonic() - started, status)

    threads = [threading.Thread(target=one) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def context():
    ctx = stack.prepare_clients()
    queries = ctx["queries"]
    public = ["/", "/codes/51/", "/codes/05/", "/en/codes/51/", "/articles/insufficient-balance/",
              "/en/articles/insufficient-balance/", "/codes/"]  # fmt: skip
    public += [f"/search/?q={quote(q)}" for q in queries[:20]]
    public.append(f"/search/?q={CARDS[0]}")  # a card number in a URL
    search = [f"/api/v1/search?q={quote(q)}" for q in queries]
    search.append(f"/api/v1/search?q={quote('6222 0212 3456 7890 123')}")
    pages = {name: (paths, headers, body) for name, paths, headers, body in stack.pages(ctx)}
    _paths, token, body = pages["create_ticket"]
    return {
        "public": public,
        "search": search,
        "wizard": ctx["wizard_steps"],
        "merchant": {"Cookie": f"sessionid={ctx['cookies']['merchant']}"},
        "token": token,
        "ticket_body": json.loads(body),
    }


# --- the faults -------------------------------------------------------------------------------
def fault_kill_worker(env):
    before = workers_of(env["server"].pid)
    victim = sorted(before)[0]
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    respawned, peak, samples = None, 0.0, []
    while time.monotonic() - killed < max(15, PHASE_SECONDS - FAULT_AFTER - 2):
        now = workers_of(env["server"].pid)
        new = [pid for pid in now if pid not in before]
        if new:
            if respawned is None:
                respawned = time.monotonic() - killed
            rss = now[new[0]]
            peak = max(peak, rss)
            samples.append((round(time.monotonic() - killed, 1), rss))
        time.sleep(0.2)
    return {
        "respawned_after_s": round(respawned, 2) if respawned is not None else None,
        "new_worker_rss_peak_mb": peak,
        "new_worker_rss_mb_at": samples[:: max(1, len(samples) // 6)],
        "fault_ended": killed,
    }


def fault_pause_redis(env):
    env["redis"].pause(5)
    time.sleep(5)
    return {"fault_ended": time.monotonic()}


def fault_redis_unreachable(env):
    env["redis"].kill()
    time.sleep(20)
    env["redis"].start()
    return {"fault_ended": time.monotonic(), "note": "Redis restarted empty (no persistence)"}


def fault_restart_postgres(env):
    started = time.monotonic()
    env["postgres"].restart()
    return {"restart_s": round(time.monotonic() - started, 2), "fault_ended": time.monotonic()}


def fault_burst(env):
    burst(env["recorder"])
    return {"fault_ended": time.monotonic(), "connections": BURST}


PHASES = [
    ("baseline", None),
    ("kill -9 a worker", fault_kill_worker),
    ("Redis paused 5 s", fault_pause_redis),
    ("Redis unreachable 20 s", fault_redis_unreachable),
    ("PostgreSQL restart", fault_restart_postgres),
    (f"burst of {BURST} connections", fault_burst),
    ("cool-down", None),
]


# --- the report -------------------------------------------------------------------------------
def _percentile(values, fraction):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(fraction * len(values)))] * 1000, 1)


def _is_error(outcome):
    return not isinstance(outcome, int) or outcome >= 500


def phase_report(recorder, name, fault):
    rows = [row for row in recorder.rows if row[0] == name]
    errors = Counter(str(outcome) for *_rest, outcome in rows if _is_error(outcome))
    public = [seconds for _p, kind, _s, seconds, _o in rows if kind == "page"]
    health = [(at, status, state) for phase, at, status, state in recorder.health if phase == name]
    states = Counter(f"{status} {state}".strip() for _at, status, state in health)
    report = {
        "requests": len(rows),
        "errors": dict(errors),
        "p50_ms": _percentile([row[3] for row in rows], 0.50),
        "p99_ms": _percentile([row[3] for row in rows], 0.99),
        "public_p99_ms": _percentile(public, 0.99),
        "non_json_api": sum(1 for row in rows if str(row[4]).endswith("not-json")),
        "healthz": dict(states),
    }
    restarted = [
        f"{what} exited ({code})" for phase, what, code in recorder.restarts if phase == name
    ]
    if restarted:
        report["restarted"] = restarted
    if fault:
        report.update({k: v for k, v in fault.items() if k not in ("fault_ended", "injected")})
        injected, ended = fault["injected"], fault["fault_ended"]
        failed_at = [
            row[2] + row[3] for row in rows if _is_error(row[4]) and row[2] + row[3] >= injected
        ]
        report["last_error_after_fault_s"] = round(max(failed_at) - ended, 2) if failed_at else None
        not_ok = [at for at, status, state in health if at >= ended and state != "ok"]
        report["healthz_ok_again_after_s"] = round(max(not_ok) - ended + 0.25, 2) if not_ok else 0
    return report


def ticket_report(recorder, since_pk):
    stack.django_setup()
    from django.db import connections
    from django.db.models import Count

    from diagnosis.models import Ticket

    connections.close_all()  # the connection of the set-up died with the PostgreSQL restart
    stored = Counter()
    numbers = {}
    for number, description in Ticket.objects.filter(pk__gt=since_pk).values_list(
        "number", "description"
    ):
        marker = (description or "").split(" ")[0]
        if marker.startswith("soak"):
            stored[marker] += 1
            numbers[marker] = number
    answered = recorder.answered
    duplicate_numbers = (
        Ticket.objects.values("number").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    return {
        "answered_201": len(answered),
        "stored": sum(stored.values()),
        "lost": sum(1 for marker in answered if marker not in stored),
        "phantom": sum(1 for marker in stored if marker not in answered),
        "stored_twice": sum(1 for count in stored.values() if count > 1),
        "number_mismatch": sum(
            1 for marker, number in answered.items() if numbers.get(marker, number) != number
        ),
        "duplicate_numbers": duplicate_numbers,
    }


def cards_in_logs():
    found = {}
    forms = [re.compile(r"\D?".join(card)) for card in CARDS]  # also spaced or dotted
    for name, path in LOGS.items():
        text = path.read_text(errors="replace") if path.exists() else ""
        found[name] = sum(len(form.findall(text)) for form in forms)
    return found


def write_results(results):
    lines = [
        f"\n## {datetime.now():%Y-%m-%d %H:%M} — soak (`make soak`): {os.cpu_count()} cores, "
        f"{stack.WORKERS} gunicorn workers, {CLIENTS} client threads, {PHASE_SECONDS} s per "
        f"phase, {TICKETS:,} tickets, {ARTICLES:,} articles",
        "",
        "| phase | requests | errors by kind | p50 ms | p99 ms | public pages p99 ms | "
        "/healthz seen | recovery |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, phase in results["phases"].items():
        recovery = {
            k: v
            for k, v in phase.items()
            if k
            not in ("requests", "errors", "p50_ms", "p99_ms", "public_p99_ms", "healthz",
                    "non_json_api")
        }  # fmt: skip
        lines.append(
            f"| {name} | {phase['requests']} | {phase['errors'] or 0} | {phase['p50_ms']} | "
            f"{phase['p99_ms']} | {phase['public_p99_ms']} | {phase['healthz']} | "
            f"{recovery or '—'} |"
        )
    lines += [
        "",
        f"Tickets: {results['tickets']}; task queue drained {results['task_queue_drained_s']} s "
        f"after the load (None: not within 90 s). Worker RSS (MB) before: "
        f"{results['rss_before']}, after: {results['rss_after']}. Card numbers found in logs: "
        f"{results['cards_in_logs']}. "
        f"API answers that were not JSON: {results['non_json_api']}. Data build: "
        f"{results['data_build']}; elapsed {results['elapsed_s']} s; load average at the start "
        f"{results['load_start']}, at the end {results['load_end']} (shared machine).",
    ]
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    (ROOT / "bench" / "soak.json").write_text(json.dumps(results, indent=2, default=str) + "\n")


def main():
    started = time.perf_counter()
    # Ctrl-C or a TERM: stop the stack (finally below), not leave it running.
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(1))
    postgres, redis_server = Postgres(), Redis()
    postgres.start()
    redis_server.start()
    processes, background = [], {}
    try:
        timings = prepare_database()
        stack.manage("collectstatic", "--noinput", "-v0")
        log(f"search index: {stack.build_search_index()}")
        ctx = context()
        for name, args in BACKGROUND.items():
            background[name] = start_background(name, *args)
        server = start_gunicorn()
        processes.append(server)
        time.sleep(2)
        rss_before = workers_of(server.pid)
        since_pk = stack.newest_ticket_pk()
        recorder = Recorder()
        env = {"server": server, "redis": redis_server, "postgres": postgres,
               "recorder": recorder}  # fmt: skip
        stop = threading.Event()
        clients = [Client(recorder, ctx, stop) for _ in range(CLIENTS)]
        threads = [
            *clients,
            threading.Thread(target=watch_health, args=(recorder, stop), daemon=True),
            threading.Thread(target=supervise, args=(background, recorder, stop), daemon=True),
        ]
        load_start = os.getloadavg()
        results = {"phases": {}}
        for thread in threads:
            thread.start()
        for name, fault in PHASES:
            recorder.phase = name
            phase_started = time.monotonic()
            done = None
            if fault is not None:
                time.sleep(FAULT_AFTER)
                injected = time.monotonic()
                done = fault(env)
                done["injected"] = injected
            time.sleep(max(0.0, phase_started + PHASE_SECONDS - time.monotonic()))
            results["phases"][name] = phase_report(recorder, name, done)
            log(f"{name:28} {json.dumps(results['phases'][name], ensure_ascii=False)}")
        stop.set()
        for thread in threads:
            thread.join(35)
        from django.db import connections

        connections.close_all()  # (PostgreSQL was restarted since this process last asked)
        drained = stack.wait_for_drain(timeout=90)
        log(f"task queue drained in {drained} s")
        results.update(
            tickets=ticket_report(recorder, since_pk),
            rss_before=sorted(rss_before.values()),
            rss_after=sorted(workers_of(server.pid).values()),
            load_start=load_start,
            load_end=os.getloadavg(),
            data_build=timings,
            refused=recorder.refused,
            task_queue_drained_s=drained,
        )
    finally:
        processes += background.values()
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        redis_server.stop()
        postgres.stop()
    results["cards_in_logs"] = cards_in_logs()
    results["non_json_api"] = sum(p["non_json_api"] for p in results["phases"].values())
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    log(f"tickets: {results['tickets']}; refused: {recorder.refused}")
    log(f"worker RSS before {results['rss_before']} MB, after {results['rss_after']} MB")
    log(f"card numbers in logs: {results['cards_in_logs']}; logs in {WORK}")
    write_results(results)


if __name__ == "__main__":
    main()
