"""Review before publish: editors without the publish permission submit their changes to an
article for review; a second editor approves them (the change is applied like any edit: the
article is saved, so the search index and the page cache follow) or sends them back with a
comment for the author; until then the author may withdraw it. Lead editors and admins publish
directly (diagnosis.core.permissions.can_publish_articles).

The author is told by e-mail, in their language, when their change is approved or sent back
(with the reviewer's comment and a link to the change), through the outbox and a task like every
notification (diagnosis/tickets/notifications.py), after the decision commits.

The trail: every ArticleChange row keeps who submitted, who reviewed, when, the comment and the
revision its approval made; submit, approve and send back are also audit events
(diagnosis/core/audit.py: kinds and field names only, never the comment's text).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from diagnosis.core import audit, permissions
from diagnosis.core.cards import scrub_text
from knowledge import services
from knowledge.diffing import side_by_side
from knowledge.loading import article_snapshot
from knowledge.models import Article, ArticleChange

MAX_COMMENT = 2000


def changed_keys(before: dict, after: dict) -> list[str]:
    return sorted(k for k in after if k != "slug" and before.get(k) != after[k])


@transaction.atomic
def article_change_submit(*, article, proposed: dict, author) -> ArticleChange | None:
    """Keep `proposed` (an article snapshot) for review; the article itself is not touched.
    None when the proposal changes nothing."""
    base = article_snapshot(article)
    proposed = {**base, **{k: v for k, v in proposed.items() if k in base and k != "slug"}}
    changed = changed_keys(base, proposed)
    if not changed:
        return None
    change = ArticleChange.objects.create(
        article=article, author=author, base=base, proposed=proposed, changed_fields=changed
    )
    audit.record(actor=author, action="article.submit", obj=article, changed_fields=changed)
    return change


@transaction.atomic
def article_change_approve(*, change, reviewer) -> ArticleChange:
    """Publish a pending change: the fields it changes take the proposed values (others keep
    what the article has now), through the article's own save and a revision."""
    change = ArticleChange.objects.select_for_update().get(pk=change.pk)
    if not permissions.can_review_article_change(reviewer, change):
        raise PermissionDenied
    article = Article.objects.select_for_update().get(pk=change.article_id)
    revision = services.article_snapshot_apply(
        article=article,
        data={k: change.proposed[k] for k in change.changed_fields if k in change.proposed},
        author=change.author,
    )
    change.state = ArticleChange.State.APPROVED
    change.reviewer, change.reviewed_at, change.revision = reviewer, timezone.now(), revision
    change.save(update_fields=["state", "reviewer", "reviewed_at", "revision"])
    audit.record(actor=reviewer, action="article.approve", obj=article, change=change.pk)
    _tell_author(change, "article_change_approved")
    return change


@transaction.atomic
def article_change_send_back(*, change, reviewer, comment: str) -> ArticleChange:
    """Return a pending change to its author with a comment (scrubbed of card numbers); the
    article is not touched."""
    change = ArticleChange.objects.select_for_update().get(pk=change.pk)
    if not permissions.can_review_article_change(reviewer, change):
        raise PermissionDenied
    comment = scrub_text((comment or "").strip())[:MAX_COMMENT]
    if not comment:
        raise ValidationError({"comment": _("退回时请写明原因，作者会看到这条意见。")})
    change.state = ArticleChange.State.SENT_BACK
    change.reviewer, change.reviewed_at, change.comment = reviewer, timezone.now(), comment
    change.save(update_fields=["state", "reviewer", "reviewed_at", "comment"])
    audit.record(actor=reviewer, action="article.send_back", obj=change.article, change=change.pk)
    _tell_author(change, "article_change_sent_back")
    return change


def _tell_author(change, kind: str) -> None:
    """One mail to the change's author (none without an address), sent by a task on commit."""
    from django.urls import reverse

    from config.tasks import enqueue_on_commit
    from diagnosis.tickets import notifications
    from diagnosis.tickets.tasks import deliver_mail

    author = change.author
    if author is None or not author.is_active:
        return
    ids = notifications.build(
        kind,
        [author],
        {
            "change": change,
            "article": change.article,
            "reviewer": change.reviewer,
            "url": notifications.absolute(
                reverse("admin:knowledge_article_change_review", args=[change.pk])
            ),
        },
        key=f"{kind}:{change.pk}",
    )
    if ids:
        enqueue_on_commit(deliver_mail, ids)


@transaction.atomic
def article_change_withdraw(*, change, user) -> ArticleChange:
    """The author takes back a change that nobody has reviewed yet; the article is not touched."""
    change = ArticleChange.objects.select_for_update().get(pk=change.pk)
    if not permissions.can_withdraw_article_change(user, change):
        raise PermissionDenied
    change.state = ArticleChange.State.WITHDRAWN
    change.save(update_fields=["state"])
    audit.record(actor=user, action="article.withdraw", obj=change.article, change=change.pk)
    return change


def pending_changes():
    """Changes waiting for review, oldest first (a queryset: the caller pages it)."""
    return ArticleChange.objects.pending().select_related("article", "author")


def sent_back_to(user, limit=20) -> list[ArticleChange]:
    """`user`'s own changes that were sent back, newest first, with the reviewers' comments."""
    return list(
        ArticleChange.objects.filter(author=user, state=ArticleChange.State.SENT_BACK)
        .select_related("article", "reviewer")
        .order_by("-reviewed_at", "-pk")[:limit]
    )


def change_diff(change, *, label) -> list[dict]:
    """What the reviewer reads: each changed field, the published text (now) beside the
    proposed one, and whether the published text moved on since the submission."""
    current = article_snapshot(change.article)
    rows = []
    for name in change.changed_fields:
        now, proposed = current.get(name, ""), change.proposed.get(name, "")
        rows.append(
            {
                "field": name,
                "label": label(name),
                "sides": side_by_side(now, proposed),
                "moved_on": current.get(name) != change.base.get(name),
            }
        )
    return rows
