"""Background tasks of the knowledge base (the search rebuild is in knowledge/search/tasks.py)."""

from django_tasks import task

from knowledge import review


@task()
def notify_overdue_reviews() -> dict:
    """Mail owners their overdue articles and codes (every 15 minutes; each owner once a week)."""
    return {"owners": review.notify_overdue_reviews()}
