"""Background tasks of the ticket feature (Django's tasks API; run by `manage.py run_worker`).

Enqueued by diagnosis.tickets.services with the write they follow (config.tasks
.enqueue_on_commit) and by the scheduler (config/scheduler.py). Every task is idempotent: the
mail it builds is keyed per notification and recipient, and the jobs look at the data as it is.
"""

from django_tasks import task

from diagnosis.tickets import jobs, notifications


@task()
def notify_ticket_created(ticket_id: int) -> int:
    return notifications.ticket_created(ticket_id)


@task()
def notify_ticket_replied(event_id: int) -> int:
    return notifications.ticket_replied(event_id)


@task()
def notify_ticket_status_changed(event_id: int) -> int:
    return notifications.ticket_status_changed(event_id)


@task()
def notify_ticket_assigned(ticket_id: int, actor_id: int) -> int:
    return notifications.ticket_assigned(ticket_id, actor_id)


@task()
def deliver_mail(mail_ids: list) -> int:
    """A retry of mail that failed (deferred with back-off)."""
    return notifications.deliver(mail_ids)


# --- scheduled jobs (config/scheduler.py); each is a management command too --------------------


@task()
def deliver_due_mail() -> int:
    return notifications.deliver_due()


@task()
def auto_close_tickets() -> dict:
    return jobs.auto_close()


@task()
def send_sla_warnings() -> dict:
    return jobs.sla_warnings()


@task()
def send_daily_digests() -> int:
    return jobs.daily_digests()
