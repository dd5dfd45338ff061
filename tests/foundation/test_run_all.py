"""`make run` (manage.py run_all): the web server, a task worker and the scheduler start
together, a ticket's mail is printed by the worker, and Ctrl-C stops all three."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import factories
from tests.diagnosis.test_task_worker import database_url, free_port

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_run_all_serves_mails_from_the_worker_and_stops_everything_on_ctrl_c(
    tmp_path, database_tasks, merchant_user
):
    agent = factories.agent()
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "SEARCH_INDEX_DIR": str(tmp_path / "search"),
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "EMAIL_HOST", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    log = tmp_path / "run_all.log"
    with open(log, "w") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "manage.py", "run_all", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail(log.read_text())
        ticket = factories.ticket(merchant=merchant_user.merchant, user=merchant_user)
        deadline = time.monotonic() + 60
        while ticket.number not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.3)
        lines = log.read_text().splitlines()
        mail_lines = [line for line in lines if f"To: {agent.email}" in line]
        assert mail_lines and all(line.startswith("worker") for line in mail_lines), lines
        assert any(line.startswith("scheduler") for line in lines)
        children = [
            int(pid)
            for pid in subprocess.run(
                ["pgrep", "-P", str(supervisor.pid)], capture_output=True, text=True
            ).stdout.split()
        ]
        assert len(children) == 3
        supervisor.send_signal(signal.SIGINT)  # Ctrl-C
        assert supervisor.wait(30) == 0
        for pid in children:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert "stopped: web server, worker and scheduler" in log.read_text()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
