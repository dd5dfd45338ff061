"""The jobs the help desk runs on its own, and the loop that enqueues them (`run_scheduler`).

The scheduler does no work itself: every interval it enqueues each job's task, and the workers
run it (so a slow job never delays the others, and failures are visible like any task's). All
jobs are idempotent; each starts once when the scheduler starts (catching up after downtime),
then every `every` seconds. Run one scheduler per deployment; with a shared cache (REDIS_URL) a
second one is harmless (each slot is taken once). Each job is also a management command:

| job | task | command |
|---|---|---|
| mail | deliver_due_mail: retries that are due | `send_pending_mail` |
| sla | send_sla_warnings: first-reply deadline near / missed | `send_sla_warnings` |
| auto_close | auto_close_tickets: reminders, then closing | `auto_close_tickets` |
| incidents | incident_catch_up: detection + stale incidents resolved | `detect_incidents` |
| digests | send_daily_digests (after DIGEST_TIME, working days) | `send_daily_digests` |
| search | rebuild_search_index if the current version is not stored | `rebuild_search_index` |
| reviews | notify_overdue_reviews: owners told, weekly | `notify_overdue_reviews` |
| tasks | maintain_task_queue: orphaned tasks run again, old results pruned | — |
"""

import logging
import signal
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils.module_loading import import_string
from django_tasks import task

from config import cache_backends

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task_path: str
    every: float  # seconds


JOBS = (
    Job("mail", "diagnosis.tickets.tasks.deliver_due_mail", 60),
    Job("sla", "diagnosis.tickets.tasks.send_sla_warnings", 60),
    Job("auto_close", "diagnosis.tickets.tasks.auto_close_tickets", 15 * 60),
    Job("incidents", "diagnosis.insight.tasks.incident_catch_up", 5 * 60),
    Job("digests", "diagnosis.tickets.tasks.send_daily_digests", 10 * 60),
    Job("search", "knowledge.search.tasks.rebuild_search_index", 60),
    Job("reviews", "knowledge.tasks.notify_overdue_reviews", 15 * 60),
    Job("tasks", "config.scheduler.maintain_task_queue", 5 * 60),
)


@task()
def maintain_task_queue() -> dict:
    from config import tasks

    return {"recovered": tasks.recover_orphans(), "pruned": tasks.prune_results()}


def enqueue(job: Job, *, slot: int | None = None) -> bool:
    """Enqueue the job's task unless another scheduler took this slot; True when enqueued.
    While the cache does not answer, the job is enqueued (the jobs are idempotent: a second
    scheduler would at worst run a tick twice; skipping every tick of an outage is worse)."""
    if slot is not None:
        with cache_backends.watch() as seen:
            taken = not cache.add(f"scheduler:{job.name}:{slot}", 1, int(job.every) + 60)
        if taken and not seen.failed:
            return False
    import_string(job.task_path).enqueue()
    return True


class Scheduler:
    def __init__(self, jobs=JOBS, *, clock=time.time, sleep=time.sleep):
        self.jobs = list(jobs)
        self.clock = clock
        self.sleep = sleep
        self.running = True
        self.next_run = {job.name: 0.0 for job in self.jobs}  # all of them at start

    def stop(self, *args):
        self.running = False

    def tick(self) -> list[str]:
        """Enqueue every job that is due; returns their names."""
        now = self.clock()
        done = []
        for job in self.jobs:
            if now < self.next_run[job.name]:
                continue
            self.next_run[job.name] = now + job.every
            try:
                if enqueue(job, slot=int(now // job.every)):
                    done.append(job.name)
            except Exception:  # noqa: BLE001 - the queue is down: try again next time
                logger.exception("Could not enqueue the %s job", job.name)
                self.next_run[job.name] = now + min(job.every, 30)
        return done

    def run(self, *, once=False):
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        logger.info("Scheduler started: %s", ", ".join(f"{j.name}/{j.every:g}s" for j in self.jobs))
        while self.running:
            from django.db import close_old_connections

            close_old_connections()
            for name in self.tick():
                logger.info("Enqueued the %s job", name)
            if once:
                return
            wait = max(0.0, min(self.next_run.values()) - self.clock())
            self.sleep(min(wait, 1.0))  # short naps: Ctrl-C and SIGTERM are seen at once
