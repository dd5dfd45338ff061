"""Redis stalls and dies under a real server: the public pages and the search API keep answering,
/healthz says "degraded", and "ok" again once Redis is back (README "Reliability").

A real gunicorn (config/gunicorn.py, one worker) with the production caches on a real
`redis-server` of our own on a spare port (Debian's package; `make test` installs it), which is
paused (`CLIENT PAUSE … ALL`: every command waits, the way a stalled Redis behaves), killed and
started again.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis

from tests.diagnosis.test_task_worker import database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
PAGES = ("/", "/codes/51/", "/en/codes/51/", "/search/?q=51")
SLOW = 1.5  # seconds: no answer during a fault may take longer (0.25 s timeouts, a breaker)


class RedisServer:
    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.process = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = self.client()
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def client(self):
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def kill(self):
        self.process.kill()
        self.process.wait(10)


def fetch(url):
    """(status, content type, body, seconds)."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read()
            status, kind = response.status, response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as error:
        body = error.read()
        status, kind = error.code, error.headers.get("Content-Type", "")
    return status, kind, body, time.monotonic() - started


def health(base):
    status, _kind, body, _seconds = fetch(f"{base}/healthz")
    return status, json.loads(body)


def serves_everything(base, *, within=None):
    for path in PAGES:
        status, _kind, _body, seconds = fetch(base + path)
        assert status == 200, (path, status)
        if within is not None:
            assert seconds < within, (path, seconds)
    status, kind, body, seconds = fetch(f"{base}/api/v1/search?q=51")
    assert status == 200 and kind.startswith("application/json"), (status, kind, body[:200])
    assert json.loads(body)["results"]
    if within is not None:
        assert seconds < within, ("/api/v1/search", seconds)


@pytest.fixture
def content(db):
    from knowledge.loading import load_content

    load_content()


def test_pages_and_api_survive_a_paused_and_a_dead_redis(tmp_path, content):
    server = RedisServer(tmp_path)
    server.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.foundation.redis_fault_settings",
        "DATABASE_URL": database_url(),
        "REDIS_URL": server.url,
        "REDIS_TIMEOUT": "0.25",
        "REDIS_BREAKER_FAILURES": "3",
        "REDIS_BREAKER_SECONDS": "1",
        "WEB_CONCURRENCY": "1",
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path / "gunicorn.log"
    with open(log, "w") as out:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py",
             "--bind", f"127.0.0.1:{port}", "--timeout", "60", "config.wsgi"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, body = health(base)
                break
            except OSError:
                assert gunicorn.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert (status, body) == (200, {"status": "ok", "database": "up", "cache": "up"})
        serves_everything(base)
        serves_everything(base)  # now from the page cache
        assert server.client().dbsize() > 0  # the pages really went through Redis

        # A stalled Redis: every command waits. Each process waits 0.25 s at most three times,
        # then skips Redis; pages are rendered, not 500.
        server.client().client_pause(5000, all=True)
        serves_everything(base, within=SLOW)
        status, body = health(base)
        assert (status, body) == (200, {"status": "degraded", "database": "up", "cache": "down"})

        # A dead Redis (what a restart or a lost node looks like).
        server.kill()
        time.sleep(1.1)  # the breaker lets a probe through: it fails at once (refused)
        serves_everything(base, within=SLOW)
        status, body = health(base)
        assert (status, body) == (200, {"status": "degraded", "database": "up", "cache": "down"})

        # Redis is back: after the breaker's pause, the next probe finds it.
        server.start()
        deadline = time.monotonic() + 10
        while health(base)[1]["cache"] != "up":
            assert time.monotonic() < deadline, "the cache was not used again"
            time.sleep(0.2)
        assert health(base) == (200, {"status": "ok", "database": "up", "cache": "up"})
        serves_everything(base)
        assert server.client().dbsize() > 0  # cached again
    finally:
        os.killpg(gunicorn.pid, signal.SIGTERM)
        gunicorn.wait(30)
        if server.process.poll() is None:
            server.kill()
    assert "Traceback" not in log.read_text()  # no error logged, only the breaker's warnings
