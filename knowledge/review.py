"""Review on a schedule: every published article and every response code has an owner and a
"review by" date; an editor who checked it marks it verified (who, when; the public page shows
"last checked"), which moves the date on by the category's interval. Overdue content is listed
first in the review queue and mailed to its owner once a week (`notify_overdue_reviews`, a
scheduled job, config/scheduler.py)."""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config import pagecache
from diagnosis.core import audit
from knowledge.models import Article, ResponseCode

QUEUE_DAYS = 30  # the queue shows what is due within this many days, and everything overdue


def review_days(category_key: str) -> int:
    """Days between reviews: KNOWLEDGE_REVIEW_DAYS[category], else its "default" (180)."""
    table = settings.KNOWLEDGE_REVIEW_DAYS
    return int(table.get(category_key, table.get("default", 180)))


def next_review(category_key: str, start: dt.date | None = None) -> dt.date:
    return (start or timezone.localdate()) + dt.timedelta(days=review_days(category_key))


def _reviewable(model):
    rows = model.objects.all()
    return rows.published() if model is Article else rows


def fill_missing_review_dates() -> int:
    """Published articles and codes without a "review by" date get one (loads bulk-insert
    rows without save(): this runs after every load and with the weekly job). Set-based."""
    from knowledge.models import Category

    changed = 0
    for key in Category.objects.values_list("key", flat=True):
        for model in (Article, ResponseCode):
            changed += (
                _reviewable(model)
                .filter(review_by__isnull=True, category__key=key)
                .update(review_by=next_review(key))
            )
    return changed


def set_first_review_date(instance) -> None:
    """On save: a published article (or a code) without a date gets the category's interval."""
    if instance.review_by is not None or instance.category_id is None:
        return
    if isinstance(instance, Article) and instance.status != Article.Status.PUBLISHED:
        return
    instance.review_by = next_review(instance.category.key)


@transaction.atomic
def content_verify(*, obj, user):
    """`user` checked `obj` (an article or a code) today: record it and set the next date."""
    model = type(obj)
    now = timezone.now()
    review_by = next_review(obj.category.key, timezone.localdate())
    # An UPDATE, not save(): verifying changes no content, so no revision and no search rebuild.
    model.objects.filter(pk=obj.pk).update(verified_at=now, verified_by=user, review_by=review_by)
    obj.verified_at, obj.verified_by, obj.review_by = now, user, review_by
    audit.record(actor=user, action="knowledge.verify", obj=obj)
    pagecache.bump()  # the public page shows "last checked"
    return obj


def review_queue(*, owner=None, today=None, within_days=QUEUE_DAYS) -> list[dict]:
    """Articles and codes due within `within_days` (or overdue, or never dated), soonest first.
    Two queries, whatever the size of the knowledge base."""
    today = today or timezone.localdate()
    due = Q(review_by__isnull=True) | Q(review_by__lte=today + dt.timedelta(days=within_days))
    rows = []
    for model, kind in ((Article, "article"), (ResponseCode, "code")):
        queryset = _reviewable(model).filter(due).select_related("owner", "verified_by", "category")
        if owner is not None:
            queryset = queryset.filter(owner=owner)
        for obj in queryset:
            rows.append(
                {
                    "kind": kind,
                    "obj": obj,
                    "label": str(obj) if kind == "article" else f"{obj.code} · {obj.meaning_zh}",
                    "review_by": obj.review_by,
                    "overdue": obj.review_by is not None and obj.review_by < today,
                }
            )
    rows.sort(key=lambda row: (row["review_by"] or dt.date.min, row["kind"], row["obj"].pk))
    return rows


def notify_overdue_reviews(*, today=None) -> int:
    """Mail each owner the list of their overdue articles and codes, at most once a week
    (the outbox key holds the ISO week). Returns how many owners were told."""
    from diagnosis.tickets import notifications

    today = today or timezone.localdate()
    fill_missing_review_dates()
    overdue = [row for row in review_queue(today=today, within_days=0) if row["overdue"]]
    by_owner: dict[int, list] = {}
    for row in overdue:
        if row["obj"].owner_id is not None:
            by_owner.setdefault(row["obj"].owner_id, []).append(row)
    year, week, _day = today.isocalendar()
    told = 0
    owners = get_user_model().objects.filter(pk__in=by_owner, is_active=True)
    for owner in owners:
        rows = by_owner[owner.pk]
        items = [
            {
                "label": row["label"],
                "review_by": row["review_by"],
                "url": notifications.absolute(_admin_url(row)),
            }
            for row in rows
        ]
        notifications.send(
            "review_overdue",
            [owner],
            {"items": items, "count": len(items)},
            key=f"review-overdue:{year}-W{week:02d}",
        )
        told += 1
    return told


def _admin_url(row) -> str:
    from django.urls import reverse

    name = "article" if row["kind"] == "article" else "responsecode"
    return reverse(f"admin:knowledge_{name}_change", args=[row["obj"].pk])
