"""A real worker process (`manage.py run_worker`, database backend) and a real SMTP server
(aiosmtpd on 127.0.0.1): tickets created here are mailed by the worker, a mail server that is
down loses nothing, and a worker killed mid-way loses nothing — every mail arrives exactly once.
"""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.db import connection

from diagnosis.models import OutgoingMail
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


class Inbox:
    """aiosmtpd handler: keeps every message; can hold the next sender at MAIL FROM."""

    def __init__(self):
        self.messages = []
        self.hold_after = None  # hold the connection that sends message number hold_after + 1
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.hold_after is not None and len(self.messages) >= self.hold_after:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            self.hold_after = None
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            (str(message["Message-ID"]), envelope.rcpt_tos[0], str(message["Subject"]))
        )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SMTPServer:
    def __init__(self, port):
        self.port = port
        self.inbox = Inbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = SMTPServer(free_port())
    yield server
    server.inbox.release.set()
    server.stop()


def database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


class Workers:
    """Worker processes on the test database, stopped at the end of the test."""

    def __init__(self, smtp_port, tmp_path):
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DEBUG": "0",
            "SECRET_KEY": "worker-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "DATABASE_URL": database_url(),
            "TASKS_BACKEND": "database",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "MAIL_RETRY_SECONDS": "0.5",
            "SEARCH_INDEX_DIR": str(tmp_path / "search"),
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("REDIS_URL", None)
        self.processes = []
        self.log = tmp_path / "worker.log"

    def start(self):
        with open(self.log, "a") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--interval", "0.1"],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.processes.append(process)
        return process

    def stop_all(self):
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def workers(smtp, tmp_path, database_tasks):
    started = Workers(smtp.port, tmp_path)
    yield started
    started.stop_all()


def wait_for(condition, workers, timeout=60, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n--- worker output ---\n{workers.output()}")


def new_tickets(count, merchant_user):
    return [
        factories.ticket(merchant=merchant_user.merchant, user=merchant_user) for _ in range(count)
    ]


def expected_mail(tickets, agents):
    return sorted((agent.email, ticket.number) for ticket in tickets for agent in agents)


def received(inbox):
    """(recipient, ticket number) of every message that arrived, repeats included."""
    found = []
    for _message_id, recipient, subject in inbox.messages:
        words = subject.replace("：", " ").split()
        number = next(word for word in words if word.startswith("DD-"))
        found.append((recipient, number))
    return sorted(found)


def test_a_worker_process_sends_the_new_tickets_mail(smtp, workers, merchant_user):
    from django_tasks_db.models import DBTaskResult

    agent = factories.agent()
    smtp.start()
    (ticket,) = new_tickets(1, merchant_user)
    assert smtp.inbox.messages == []  # nothing was sent by this (the web) process
    workers.start()
    wait_for(lambda: len(smtp.inbox.messages) == 1, workers, what="the mail")
    assert received(smtp.inbox) == [(agent.email, ticket.number)]
    wait_for(
        lambda: set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"},
        workers,
        what="the task to be marked successful",
    )


def test_a_mail_server_that_was_down_gets_every_mail_exactly_once(smtp, workers, merchant_user):
    agents = [factories.agent(), factories.agent()]
    tickets = new_tickets(4, merchant_user)  # the mail server is down: nothing listens
    workers.start()
    wait_for(
        lambda: (
            OutgoingMail.objects.count() == 8
            and not OutgoingMail.objects.filter(attempts=0).exists()
        ),
        workers,
        what="every mail to fail once",
    )
    assert OutgoingMail.objects.filter(status="pending").count() == 8
    assert "ConnectionRefusedError" in OutgoingMail.objects.first().last_error
    smtp.start()  # back up: the retries (with back-off) deliver everything
    wait_for(
        lambda: OutgoingMail.objects.filter(status="sent").count() == 8,
        workers,
        what="every mail to be sent",
    )
    time.sleep(2)  # no late repeat arrives
    assert received(smtp.inbox) == expected_mail(tickets, agents)
    assert len({message_id for message_id, _to, _subject in smtp.inbox.messages}) == 8


def test_a_worker_killed_mid_way_loses_nothing_and_repeats_nothing(smtp, workers, merchant_user):
    from django_tasks_db.models import DBTaskResult

    agents = [factories.agent(), factories.agent()]
    smtp.inbox.hold_after = 3  # the 4th message hangs at MAIL FROM: the worker is mid-task
    smtp.start()
    tickets = new_tickets(4, merchant_user)
    first = workers.start()
    assert smtp.inbox.holding.wait(60), workers.output()
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    smtp.inbox.release.set()
    assert len(smtp.inbox.messages) == 3
    assert DBTaskResult.objects.filter(status="RUNNING").count() == 1  # orphaned by the kill
    workers.start()  # sees the dead worker's task and runs it again
    wait_for(
        lambda: OutgoingMail.objects.filter(status="sent").count() == 8,
        workers,
        what="every mail to be sent",
    )
    wait_for(
        lambda: set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"},
        workers,
        what="every task to finish",
    )
    time.sleep(1)
    assert received(smtp.inbox) == expected_mail(tickets, agents)
    assert "ready again" in workers.output()


@pytest.fixture
def redis_server(tmp_path):
    """A Redis of our own on a free port (CI installs redis-server)."""
    import shutil

    import redis

    port = free_port()
    process = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


def test_the_rq_backend_runs_tasks_and_deferred_retries(redis_server, smtp, tmp_path):
    """TASKS_BACKEND=rq: the same tasks through RQ on Redis, a deferred one included."""
    env = {**Workers(smtp.port, tmp_path).env, "TASKS_BACKEND": "rq", "REDIS_URL": redis_server}
    enqueue = (
        "from config.tasks import enqueue_later, queue_stats\n"
        "from diagnosis.insight.tasks import incident_catch_up\n"
        "from diagnosis.tickets.tasks import deliver_due_mail\n"
        "incident_catch_up.enqueue()\n"
        "assert enqueue_later(deliver_due_mail, 0.5)\n"
        "print(queue_stats())\n"
    )
    shell = [sys.executable, "manage.py", "shell", "-c"]
    out = subprocess.run(
        [*shell, enqueue], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert "'backend': 'rq', 'ready': 1" in out.stdout
    time.sleep(1)  # the deferred one is due
    worker = subprocess.run(
        [sys.executable, "manage.py", "run_worker", "--batch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log = worker.stdout + worker.stderr
    assert "Successfully completed diagnosis.insight.tasks.incident_catch_up()" in log, log
    assert "Successfully completed diagnosis.tickets.tasks.deliver_due_mail()" in log, log
    stats = subprocess.run(
        [*shell, "from config.tasks import queue_stats; print(queue_stats())"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "'ready': 0, 'running': 0, 'failed': 0" in stats
