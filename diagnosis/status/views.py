"""/status/: the public bank status page (no login; cached for anonymous visitors like the other
public pages, config/pagecache.py — incidents and announcements bump the pages version)."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from config.pagecache import public_page
from diagnosis.status import selectors


@require_safe
@public_page
def status(request):
    now = timezone.now()
    overview = selectors.status_overview(now=now)
    return render(
        request,
        "diagnosis/status.html",
        {
            "overview": [item for item in overview if item.kind == "acquirer"],
            "networks": [item for item in overview if item.kind == "network"],
            "incidents": selectors.recent_incidents(now=now),
            "history_days": selectors.HISTORY_DAYS,
            "now": now,
        },
    )
