"""Template context for every page: the active bank announcements of the banner."""

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from knowledge import selectors

BANNER_LIMIT = 3


def announcements(request):
    """Active bank announcements for the banner on every page (lazy, cached: ≤ 1 query)."""
    return {
        # The most severe few; the archive page lists every one.
        "active_announcements": SimpleLazyObject(
            lambda: selectors.announcement_active()[:BANNER_LIMIT]
        ),
        "announcements_label": _("银行公告"),
    }
