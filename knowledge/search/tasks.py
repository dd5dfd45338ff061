"""Background task of knowledge search: build the index once per edit, for every process."""

from django_tasks import task

from knowledge import search


@task()
def rebuild_search_index() -> dict:
    """Build and store the current version's index unless it is stored already (enqueued after
    each content edit, and every minute by the scheduler as a safety net)."""
    index = search.build_and_publish()
    if index is None:
        return {"built": False}
    return {"built": True, "documents": len(index.docs), "seconds": round(index.build_seconds, 2)}
