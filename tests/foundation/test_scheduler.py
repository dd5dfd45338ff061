"""The scheduler enqueues each job at its interval (all of them at start), once per slot even
with two schedulers; tasks of dead workers are made ready again."""

import os
import socket
from datetime import timedelta

import pytest
from django.utils import timezone

from config import scheduler, tasks

pytestmark = pytest.mark.django_db


def queued():
    from django_tasks_db.models import DBTaskResult

    return sorted(
        p.rsplit(".", 1)[1] for p in DBTaskResult.objects.values_list("task_path", flat=True)
    )


def test_every_job_starts_at_once_then_at_its_interval(database_tasks):
    now = [1_000_000.0]
    loop = scheduler.Scheduler(clock=lambda: now[0])
    assert loop.tick() == [job.name for job in scheduler.JOBS]
    assert len(queued()) == len(scheduler.JOBS)
    now[0] += 30
    assert loop.tick() == []
    now[0] += 31
    assert loop.tick() == ["mail", "sla", "search"]  # the one-minute jobs
    now[0] += 15 * 60
    assert set(loop.tick()) == {j.name for j in scheduler.JOBS}


def test_two_schedulers_enqueue_each_slot_once(database_tasks):
    clock = lambda: 2_000_000.0  # noqa: E731
    first, second = scheduler.Scheduler(clock=clock), scheduler.Scheduler(clock=clock)
    assert len(first.tick()) == len(scheduler.JOBS)
    assert second.tick() == []
    assert len(queued()) == len(scheduler.JOBS)


def test_every_job_is_a_task_that_runs(merchant_user):
    """With the immediate backend each job's task runs where it is enqueued."""
    for job in scheduler.JOBS:
        assert scheduler.enqueue(job) is True


def test_tasks_of_dead_workers_are_ready_again(database_tasks):
    from django_tasks_db.models import DBTaskResult

    from diagnosis.tickets.tasks import deliver_due_mail

    host = socket.gethostname()[:40]
    now = timezone.now()

    def running(worker, started):
        result = deliver_due_mail.enqueue()
        DBTaskResult.objects.filter(pk=result.id).update(
            status="RUNNING", worker_ids=[worker], started_at=started
        )
        return result.id

    dead_here = running(f"{host}:999999999:abc", now)
    alive_here = running(f"{host}:{os.getpid()}:abc", now - timedelta(hours=5))
    elsewhere_long = running("other-host:12:abc", now - timedelta(hours=1))
    elsewhere_recent = running("other-host:13:abc", now - timedelta(minutes=1))
    assert tasks.recover_orphans() == 2
    status = {str(pk): s for pk, s in DBTaskResult.objects.values_list("id", "status")}
    assert {k: status[k] for k in (dead_here, elsewhere_long)} == {
        dead_here: "READY",
        elsewhere_long: "READY",
    }
    assert status[alive_here] == status[elsewhere_recent] == "RUNNING"


def test_failed_tasks_can_be_run_again(database_tasks):
    from django_tasks_db.models import DBTaskResult

    from diagnosis.tickets.tasks import deliver_mail

    result = deliver_mail.enqueue([123])
    DBTaskResult.objects.filter(pk=result.id).update(status="FAILED", traceback="boom")
    assert tasks.retry_failed([result.id]) == 1
    again = DBTaskResult.objects.exclude(pk=result.id).get()
    assert again.status == "READY" and again.args_kwargs == {"args": [[123]], "kwargs": {}}
