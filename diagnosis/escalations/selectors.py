"""Reads for escalation batches: the batch list (keyset pages) and one batch with its items."""

from django.db.models import Count, Prefetch

from diagnosis.core.pagination import keyset_page
from diagnosis.models import EscalationBatch, EscalationItem

PAGE_SIZE = 30  # batches per page, as many as the desk queue shows tickets


def escalation_list(*, filters: dict, after="", before="", per_page=PAGE_SIZE):
    """One page of batches, newest first (one query: the list shows no total)."""
    qs = EscalationBatch.objects.select_related("acquirer", "created_by")
    if filters.get("status"):
        qs = qs.filter(status=filters["status"])
    if filters.get("acquirer"):
        qs = qs.filter(acquirer=filters["acquirer"])
    qs = qs.annotate(item_count=Count("items"))
    return keyset_page(qs, after=after, before=before, per_page=per_page)


def escalation_detail(*, number):
    items = EscalationItem.objects.select_related(
        "ticket", "ticket__merchant", "ticket__acquirer"
    ).order_by("pk")
    return (
        EscalationBatch.objects.select_related(
            "acquirer", "acquirer__escalation_template", "created_by"
        )
        .prefetch_related(Prefetch("items", queryset=items))
        .filter(number=number)
        .first()
    )


def reply_candidates(*, bank, batch=None):
    """Escalation items a bank's answer may be for: the batch's, or every sent or answered
    batch of the bank (one query, tickets and their creators loaded)."""
    qs = EscalationItem.objects.select_related(
        "batch", "ticket", "ticket__created_by", "ticket__merchant"
    ).order_by("pk")
    if batch is not None:
        return list(qs.filter(batch=batch))
    return list(
        qs.filter(
            batch__acquirer=bank,
            batch__status__in=[EscalationBatch.Status.SENT, EscalationBatch.Status.ANSWERED],
        )
    )
