"""Background tasks of decline insight (Django's tasks API; run by `manage.py run_worker`)."""

from django_tasks import task

from diagnosis.insight import detection


@task()
def detect_after_ticket(ticket_id: int) -> list:
    """After a bank-side ticket is saved: does it complete a burst? (two small queries)"""
    return [incident.pk for incident in detection.detect_after_ticket(ticket_id)]


@task()
def incident_catch_up() -> dict:
    """Scheduled every few minutes (config/scheduler.py): detection over the last hour, and
    incidents whose tickets stopped arriving are resolved."""
    return detection.catch_up()


@task()
def notify_incident(incident_id: int, event: str) -> dict:
    """Merchants of the acquirer hear of an incident once when it opens and once when it is
    resolved (diagnosis/insight/notices.py)."""
    from diagnosis.insight import notices

    return notices.incident_notify(incident_id, event)
