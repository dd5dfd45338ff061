"""Background tasks: the few helpers every feature's `tasks.py` shares.

Tasks are Django's (`django_tasks.task`; `django.tasks` on Django 6, an import change). The
backend is chosen by TASKS_BACKEND (config/settings/base.py): the database (django-tasks-db,
default), RQ on Redis, or immediate (tests).

- `enqueue_on_commit(task, *args)`: with the database backend the task row is written in the
  caller's transaction (it exists exactly when the data it is about exists: nothing is lost
  between the commit and the enqueue, nothing runs for a rolled-back write); with any other
  backend the task is enqueued once the transaction commits.
- `enqueue_later(task, seconds, *args)`: a retry with back-off (when the backend can defer).
- `recover_orphans()`: a task left "running" by a worker that died (killed, machine lost) is
  made ready again. Tasks are idempotent, so running one twice is harmless; losing one is not.
- `queue_stats()`: depth, oldest wait and failures, for /healthz?deep=1 and /metrics.
"""

import logging
import os
import socket
from dataclasses import replace
from datetime import UTC, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def backend():
    from django_tasks import task_backends

    return task_backends["default"]


def uses_database() -> bool:
    from django_tasks_db import DatabaseBackend

    return isinstance(backend(), DatabaseBackend)


def enqueue_on_commit(task, *args, **kwargs):
    """Enqueue `task` with the data of the current transaction (see the module docstring)."""
    if uses_database():
        return task.enqueue(*args, **kwargs)
    transaction.on_commit(lambda: _enqueue_logged(task, args, kwargs), robust=True)
    return None


def _enqueue_logged(task, args, kwargs):
    try:
        task.enqueue(*args, **kwargs)
    except Exception:
        # The scheduler's sweeps (mail, incidents, search index) pick the work up later.
        logger.exception("Could not enqueue %s%r", task.name, tuple(args))
        raise


def enqueue_later(task, seconds: float, *args, **kwargs) -> bool:
    """Enqueue `task` to run in `seconds`; False when the backend cannot defer (immediate)."""
    if not backend().supports_defer:
        return False
    run_after = timezone.now() + timedelta(seconds=max(0.0, seconds))
    task.using(run_after=run_after).enqueue(*args, **kwargs)
    return True


# --- workers -----------------------------------------------------------------------------------


def worker_id() -> str:
    """host:pid:random — lets another worker on the same host see that this one is gone."""
    from django.utils.crypto import get_random_string

    host = socket.gethostname()[:40]
    return f"{host}:{os.getpid()}:{get_random_string(8)}"


def _alive_here(wid: str) -> bool | None:
    """True/False for a worker of this host, None for another host's (cannot tell)."""
    host, _sep, rest = wid.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname()[:40] or not pid.isdigit():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_orphans(*, now=None) -> int:
    """Make tasks whose worker died ready again; returns how many. Database backend only
    (RQ moves the jobs of a dead worker to its failed registry; our sweeps cover them)."""
    if not uses_database():
        return 0
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    timeout = timedelta(seconds=settings.TASK_RUNNING_TIMEOUT)
    orphans = []
    for result in DBTaskResult.objects.running().only("id", "worker_ids", "started_at"):
        wid = result.worker_ids[-1] if result.worker_ids else ""
        alive = _alive_here(wid)
        if alive is False or (alive is None and result.started_at < now - timeout):
            orphans.append(result.pk)
    if orphans:
        count = (
            DBTaskResult.objects.running()
            .filter(pk__in=orphans)
            .update(status="READY", started_at=None)
        )
        logger.warning("Made %d task(s) of stopped workers ready to run again", count)
        return count
    return 0


def prune_results(*, now=None) -> int:
    """Forget successful task results after a day (failed ones stay 30 days for admins)."""
    if not uses_database():
        return 0
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    done = DBTaskResult.objects.successful().filter(finished_at__lt=now - timedelta(days=1))
    failed = DBTaskResult.objects.failed().filter(finished_at__lt=now - timedelta(days=30))
    return done.delete()[0] + failed.delete()[0]


def queue_stats(*, now=None) -> dict:
    """{"backend", "ready", "running", "failed", "oldest_wait_seconds"} of the task queue."""
    now = now or timezone.now()
    if uses_database():
        from django.db.models import Count, Min
        from django_tasks_db.models import DBTaskResult

        counts = dict(
            DBTaskResult.objects.filter(status__in=["READY", "RUNNING", "FAILED"])
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        oldest = DBTaskResult.objects.ready().aggregate(at=Min("enqueued_at"))["at"]
        return {
            "backend": "database",
            "ready": counts.get("READY", 0),
            "running": counts.get("RUNNING", 0),
            "failed": counts.get("FAILED", 0),
            "oldest_wait_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
        }
    if settings.TASKS_BACKEND == "rq":
        import django_rq

        queue = django_rq.get_queue("default")
        oldest = 0.0
        jobs = queue.get_jobs(0, 0)
        if jobs and jobs[0].enqueued_at:
            enqueued = jobs[0].enqueued_at
            if timezone.is_naive(enqueued):
                enqueued = enqueued.replace(tzinfo=UTC)
            oldest = round((now - enqueued).total_seconds(), 1)
        return {
            "backend": "rq",
            "ready": queue.count,
            "running": queue.started_job_registry.count,
            "failed": queue.failed_job_registry.count,
            "oldest_wait_seconds": oldest,
        }
    return {"backend": settings.TASKS_BACKEND, "ready": 0, "running": 0, "failed": 0,
            "oldest_wait_seconds": 0.0}  # fmt: skip


def retry_failed(result_ids) -> int:
    """Enqueue failed tasks again with their arguments (admin action). Database backend."""
    from django_tasks_db.models import DBTaskResult

    count = 0
    for result in DBTaskResult.objects.failed().filter(pk__in=list(result_ids)):
        try:
            task = result.task
        except Exception:  # noqa: BLE001 - the task's code is gone: nothing to run
            logger.warning("Cannot retry task %s: %s no longer exists", result.pk, result.task_path)
            continue
        replace(task, run_after=None).enqueue(
            *result.args_kwargs.get("args", []), **result.args_kwargs.get("kwargs", {})
        )
        count += 1
    return count
