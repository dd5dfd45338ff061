"""Saved views of the queue: a named filter, private or shared with every agent.

Writes (`saved_view_create`, `saved_view_delete`) check diagnosis.core.permissions and leave an
audit event; `views_for_nav` lists the user's own and the shared views with their capped counts,
cached for NAV_CACHE_SECONDS (one capped COUNT per view on a miss, no query on a hit).
"""

from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext as _

from config import versions
from diagnosis.core import audit, permissions
from diagnosis.core.cards import scrub_text
from diagnosis.models import SavedView

NAV_CACHE_SECONDS = 60
NAV_LIMIT = 20
COUNT_CAP = 1000
VERSION_KEY = "desk:saved-views-version"


def clean_query(raw: str) -> str:
    """Only the queue's filter parameters (no cursors), card numbers masked, as a query string."""
    from diagnosis.desk.forms import QueueFilterForm

    data = QueryDict(str(raw or "").lstrip("?")[:2000])
    scrubbed = QueueFilterForm.scrubbed_query(data) or data
    pairs = [
        (key, value)
        for key in scrubbed
        for value in scrubbed.getlist(key)
        if key in QueueFilterForm.base_fields and value != ""
    ]
    return urlencode(pairs)[:500]


@transaction.atomic
def saved_view_create(*, owner, name: str, query: str, shared=False) -> SavedView:
    if not permissions.can_save_desk_views(owner):
        raise PermissionDenied
    name = scrub_text(str(name or "")).strip()
    if not name:
        raise ValidationError({"name": _("请给这个视图起个名字。")})
    view = SavedView(owner=owner, name=name[:60], query=clean_query(query), shared=bool(shared))
    view.full_clean(exclude=["owner"])
    view.save()
    audit.record(actor=owner, action="saved_view.create", obj=view, shared=str(view.shared))
    versions.bump(VERSION_KEY)
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, actor) -> None:
    if not permissions.can_delete_desk_view(actor, view):
        raise PermissionDenied
    audit.record(actor=actor, action="saved_view.delete", obj=view)
    view.delete()
    versions.bump(VERSION_KEY)


def saved_views_visible(*, user):
    """The user's own views and every shared one."""
    return SavedView.objects.filter(Q(owner=user) | Q(shared=True)).select_related("owner")


def _count(user, query: str, agents) -> tuple[int, bool]:
    from diagnosis.desk import selectors
    from diagnosis.desk.forms import QueueFilterForm

    form = QueueFilterForm(QueryDict(query), agents=agents)
    qs = selectors.ticket_queue_queryset(user=user, filters=form.filters())
    count = qs.order_by().values("pk")[: COUNT_CAP + 1].count()
    return min(count, COUNT_CAP), count > COUNT_CAP


def views_for_nav(*, user) -> list[dict]:
    """[{pk, name, query, shared, mine, count, capped}] for the desk navigation (cached)."""
    key = f"desk:saved-views:{user.pk}:{versions.current(VERSION_KEY)}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    views = list(saved_views_visible(user=user)[:NAV_LIMIT])
    items = []
    if views:
        from diagnosis.desk.selectors import desk_agents

        agents = list(desk_agents())
        for view in views:
            count, capped = _count(user, view.query, agents)
            items.append(
                {
                    "pk": view.pk,
                    "name": view.name,
                    "query": view.query,
                    "shared": view.shared,
                    "mine": view.owner_id == user.pk,
                    "count": count,
                    "capped": capped,
                }
            )
    cache.set(key, items, NAV_CACHE_SECONDS)
    return items
