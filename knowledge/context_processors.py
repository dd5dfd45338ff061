from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from knowledge import selectors


def announcements(request):
    """Active bank announcements for the banner on every page (lazy, cached: ≤ 1 query)."""
    return {
        "active_announcements": SimpleLazyObject(selectors.announcement_active),
        "announcements_label": _("银行公告"),
    }
