"""`run_worker` outlives a database restart: it waits and goes on instead of exiting (the soak,
bench/soak.py, found the worker gone after a PostgreSQL restart)."""

import pytest
from django.core.management import call_command
from django.db import OperationalError

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_waits_for_a_database_that_restarts(database_tasks, monkeypatch):
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from config.scheduler import maintain_task_queue
    from diagnosis.management.commands import run_worker

    maintain_task_queue.enqueue()
    row = DBTaskResult.objects.get()
    runs = []

    def run(self):
        runs.append(DBTaskResult.objects.get().status)
        if len(runs) == 1:
            DBTaskResult.objects.get().claim(self.worker_id)  # the task in hand…
            raise OperationalError("FATAL: the database system is shutting down")

    monkeypatch.setattr(Worker, "run", run)
    monkeypatch.setattr(Worker, "configure_signals", lambda self: None)
    monkeypatch.setattr(run_worker, "RECONNECT_SECONDS", 0)
    call_command("run_worker", "--batch", verbosity=0)
    # The worker ran again after the error, and the task it held was ready to run again.
    assert runs == ["READY", "READY"]
    row.refresh_from_db()
    assert row.status == "READY"


def test_a_worker_asked_to_stop_does_not_retry(database_tasks, monkeypatch):
    from django_tasks_db.management.commands.db_worker import Worker

    runs = []

    def run(self):
        runs.append(1)
        self.running = False  # Ctrl-C arrived, then the database went away
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(Worker, "run", run)
    monkeypatch.setattr(Worker, "configure_signals", lambda self: None)
    call_command("run_worker", "--batch", verbosity=0)
    assert len(runs) == 1
