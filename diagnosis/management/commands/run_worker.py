"""Run a background task worker: `python manage.py run_worker` (README, "Production").

With the database backend (default) it first makes the tasks of workers that died ready again
(config.tasks.recover_orphans), then runs django-tasks-db's worker loop under an id that lets
the next worker tell it is gone. With TASKS_BACKEND=rq it runs RQ's worker (with its scheduler,
for retries that wait). Stops cleanly on Ctrl-C / SIGTERM after the task in hand. A database that
restarts or blinks is waited for (retried every second), not a reason to exit.
"""

import logging
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import InterfaceError, OperationalError, connections

from config import tasks

DB_ERRORS = (OperationalError, InterfaceError)
RECONNECT_SECONDS = 1.0
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run a background task worker (database backend, or RQ with TASKS_BACKEND=rq)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between looks at an empty queue (default 1)",
        )
        parser.add_argument(
            "--batch", action="store_true", help="run the tasks that are ready, then exit"
        )
        parser.add_argument("--max-tasks", type=int, default=None, help="exit after N tasks")

    def handle(self, *args, interval=1.0, batch=False, max_tasks=None, **options):
        verbosity = options.get("verbosity", 1)
        level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
        for name in ("config", "diagnosis", "knowledge"):
            logging.getLogger(name).setLevel(level)
        # Every task's start and end is a line of its own: shown from verbosity 2 (-v 2) on, so
        # that the console of `make run` shows the mail and the problems, not the routine.
        queue_level = {0: logging.WARNING, 1: logging.WARNING, 2: logging.INFO}.get(
            verbosity, logging.DEBUG
        )
        for name in ("django_tasks", "django_tasks_db"):
            logging.getLogger(name).setLevel(queue_level)
        if settings.TASKS_BACKEND == "rq":
            extra = ["--burst"] if batch else []
            call_command(
                "rqworker",
                "default",
                "--with-scheduler",
                "--job-class",
                "django_tasks_rq.Job",
                *extra,
            )
            return
        if not tasks.uses_database():
            raise CommandError(
                f"TASKS_BACKEND={settings.TASKS_BACKEND} runs tasks where they are enqueued: "
                "there is nothing for a worker to do."
            )
        from django_tasks_db.management.commands.db_worker import Worker

        recovered = tasks.recover_orphans()
        worker_id = tasks.worker_id()
        if verbosity:
            self.stdout.write(
                f"Task worker {worker_id} (database backend); {recovered} task(s) of stopped "
                "workers ready again. Ctrl-C stops it."
            )
        worker = Worker(
            queue_names=["default"],
            interval=interval,
            batch=batch,
            backend_name="default",
            startup_delay=False,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        worker.configure_signals()
        while True:
            try:
                worker.run()
                return
            except DB_ERRORS as error:
                # The database restarted or blinked: wait and go on instead of exiting; the
                # task it interrupted (still marked running by this worker) is made ready again.
                if not worker.running:
                    return
                worker.running_task = False
                logger.warning("Task worker: the database does not answer (%s); retrying", error)
                connections.close_all()
                time.sleep(RECONNECT_SECONDS)
                try:
                    _ready_again(worker.worker_id)
                except DB_ERRORS:
                    connections.close_all()  # still down: run() raises again and we wait


def _ready_again(wid: str) -> int:
    """Tasks this worker had claimed when the database went away: ready to run again."""
    from django_tasks_db.models import DBTaskResult

    mine = [
        result.pk
        for result in DBTaskResult.objects.running().only("id", "worker_ids")
        if result.worker_ids and result.worker_ids[-1] == wid
    ]
    if not mine:
        return 0
    return (
        DBTaskResult.objects.running().filter(pk__in=mine).update(status="READY", started_at=None)
    )
