"""Reads for escalation batches: the batch list (keyset pages) and one batch with its items."""

from django.db.models import Count, Prefetch

from diagnosis.desk.selectors import PAGE_SIZE, SortKey, keyset_page
from diagnosis.models import EscalationBatch, EscalationItem

BATCH_KEYS = (SortKey("created_at", True), SortKey("id", True))


def escalation_list(*, filters: dict, after="", before="", page_size=PAGE_SIZE):
    qs = EscalationBatch.objects.select_related("acquirer", "created_by")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("acquirer"):
        qs = qs.filter(acquirer=filters["acquirer"])
    qs = qs.annotate(item_count=Count("items"))
    return keyset_page(qs, BATCH_KEYS, after=after, before=before, page_size=page_size)


def escalation_detail(*, number):
    items = EscalationItem.objects.select_related(
        "ticket", "ticket__merchant", "ticket__acquirer"
    ).order_by("pk")
    return (
        EscalationBatch.objects.select_related("acquirer", "created_by")
        .prefetch_related(Prefetch("items", queryset=items))
        .filter(number=number)
        .first()
    )
