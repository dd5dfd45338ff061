"""Satisfaction: the merchant rates a resolved ticket 1–5 with an optional comment (scrubbed),
from the ticket page or from the signed, single-use link in the resolution e-mail; the insight
dashboard shows the figures per agent, per category and per bank.

The e-mail link carries the ticket and its resolution time, signed (no login needed): it works
once (a ticket has one rating) and only for that resolution (reopened and resolved again → a new
link), and expires after RATING_LINK_MAX_AGE.
"""

from datetime import timedelta

from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from diagnosis.core import audit, permissions
from diagnosis.core.cards import scrub_text
from diagnosis.models import SatisfactionRating, Ticket
from diagnosis.tickets import workflow

SALT = "declinedesk.satisfaction"
RATING_LINK_MAX_AGE = timedelta(days=30)
SCORES = (1, 2, 3, 4, 5)


def rating_token(ticket) -> str:
    stamp = int(ticket.resolved_at.timestamp()) if ticket.resolved_at else 0
    return signing.dumps({"t": ticket.pk, "r": stamp}, salt=SALT, compress=True)


def rating_url(ticket) -> str:
    return reverse("diagnosis:rate_by_link", args=[rating_token(ticket)])


def ticket_from_token(token: str):
    """The ticket the link is for, or None (bad signature, expired, resolved again since)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=RATING_LINK_MAX_AGE.total_seconds())
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    ticket = Ticket.objects.select_related("merchant").filter(pk=data.get("t")).first()
    if ticket is None or ticket.resolved_at is None:
        return None
    if int(ticket.resolved_at.timestamp()) != data.get("r"):
        return None
    return ticket


def can_rate_now(ticket) -> bool:
    return ticket.status in workflow.DONE_STATUSES and ticket.resolved_at is not None


@transaction.atomic
def rating_create(*, ticket, score, comment="", user=None, via_link=False) -> SatisfactionRating:
    """Record the rating. `user` must be a user of the merchant unless `via_link` (the signed
    link is the proof). Raises ValidationError when already rated or not resolved."""
    if not via_link and not permissions.can_rate_ticket(user, ticket):
        raise PermissionDenied
    if not can_rate_now(ticket):
        raise ValidationError({"score": _("工单解决后才能评价。")})
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if score not in SCORES:
        raise ValidationError({"score": _("请选择 1 到 5 分。")})
    comment = scrub_text(str(comment or "")).strip()
    if len(comment) > 1000:
        raise ValidationError({"comment": _("意见最多 1000 字。")})
    if SatisfactionRating.objects.filter(ticket=ticket).exists():
        raise ValidationError({"score": _("这张工单已经评价过了，谢谢。")})
    rating = SatisfactionRating(
        ticket=ticket,
        score=score,
        comment=comment,
        source=SatisfactionRating.Source.EMAIL if via_link else SatisfactionRating.Source.PAGE,
        rated_by=user if getattr(user, "pk", None) else None,
        agent_id=ticket.assignee_id,
        category_id=ticket.category_id,
        acquirer_id=ticket.acquirer_id,
    )
    try:
        with transaction.atomic():
            rating.save()
    except IntegrityError as error:  # rated at the same moment from the page and the link
        raise ValidationError({"score": _("这张工单已经评价过了，谢谢。")}) from error
    audit.record(actor=user, action="ticket.rated", obj=ticket, score=str(score))
    return rating


# --- figures for the insight dashboard ---------------------------------------------------------


def dashboard_figures(filters) -> dict:
    """satisfaction_figures for the dashboard's filters, cached like the dashboard's own
    aggregates (INSIGHT_CACHE_SECONDS, keyed by period, bank and language)."""
    from django.conf import settings
    from django.core.cache import cache

    key = filters.cache_key() + ":satisfaction"
    figures = cache.get(key)
    if figures is None:
        figures = satisfaction_figures(
            start=filters.start, end=filters.end, acquirer_id=filters.acquirer_id
        )
        cache.set(key, figures, settings.INSIGHT_CACHE_SECONDS)
    return figures


def satisfaction_figures(*, start=None, end=None, acquirer_id=None, limit=10) -> dict:
    """Average score and count of the ratings given in [start, end) — overall, and per agent,
    per category, per bank (the `limit` most rated of each): four queries, whatever the data."""
    start = start or timezone.now() - timedelta(days=90)
    ratings = SatisfactionRating.objects.filter(created_at__gte=start)
    if end is not None:
        ratings = ratings.filter(created_at__lt=end)
    if acquirer_id:
        ratings = ratings.filter(acquirer_id=acquirer_id)

    def grouped(*fields):
        return list(
            ratings.values(*fields)
            .annotate(avg=Avg("score"), count=Count("pk"))
            .order_by("-count", fields[0])[:limit]
        )

    from django.utils.translation import get_language

    english = (get_language() or "").startswith("en")
    total = ratings.aggregate(avg=Avg("score"), count=Count("pk"))
    if not total["count"]:
        return {"total": total, "by_agent": [], "by_category": [], "by_bank": []}
    return {
        "total": total,
        "by_agent": [
            {"label": r["agent__username"] or _("未分配"), "avg": r["avg"], "count": r["count"]}
            for r in grouped("agent__username")
        ],
        "by_category": [
            {
                "label": (r["category__name_en"] if english else r["category__name_zh"])
                or r["category__name_zh"]
                or _("未分类"),
                "avg": r["avg"],
                "count": r["count"],
            }
            for r in grouped("category__name_zh", "category__name_en")
        ],
        "by_bank": [
            {
                "label": (r["acquirer__name_en"] if english else r["acquirer__name_zh"])
                or r["acquirer__name_zh"]
                or "—",
                "avg": r["avg"],
                "count": r["count"],
            }
            for r in grouped("acquirer__name_zh", "acquirer__name_en")
        ],
    }
