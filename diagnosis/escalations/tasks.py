"""Background tasks of escalation batches (Django's tasks API; run by `manage.py run_worker`)."""

from django_tasks import task

from diagnosis.escalations import mailing


@task()
def send_batch_to_bank(batch_id: int, actor_id: int, resend: bool = False) -> str:
    """Mail the batch file to the bank (idempotent: only a batch queued for sending is sent)."""
    return mailing.send_batch(batch_id, actor_id, resend)
