"""Site-wide views outside the two apps: /healthz (200 "ok" or "degraded" while the database
answers, 503 otherwise) and the language switch (keeps the current page, in the other language).
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.urls import translate_url
from django.utils import translation
from django.utils.translation import check_for_language, get_language_from_path
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request):
    """Whether this process can serve, for load balancers and uptime checks:

    - 200 `{"status": "ok", "database": "up", "cache": "up" | "local"}`;
    - 200 `{"status": "degraded", …, "cache": "down"}`: Redis does not answer, pages are served
      without it (slower); a load balancer keeps sending traffic, an alert can fire;
    - 503 `{"status": "unavailable", "database": "down", …}`: the database does not answer.

    Cheap: one `SELECT 1`, and the cache state from the circuit breaker of
    config/cache_backends.py (at most one PING bounded by REDIS_TIMEOUT when nothing recent
    tells, none while Redis is being skipped).

    `?deep=1` (staff or METRICS_ALLOWED_NETWORKS only, config/metrics.py) also writes and reads
    the cache and checks that the task queue is draining (no ready task waiting longer than
    TASK_QUEUE_MAX_WAIT seconds); 503 when either is not.
    """
    from config.cache_backends import cache_state

    cache_now = cache_state()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse(
            {"status": "unavailable", "database": "down", "cache": cache_now}, status=503
        )
    if not request.GET.get("deep"):
        status = "degraded" if cache_now == "down" else "ok"
        return JsonResponse({"status": status, "database": "up", "cache": cache_now})
    from config import metrics

    if not metrics.allowed(request):
        return JsonResponse(
            {"error": {"code": "forbidden", "message": "deep checks: staff or local requests"}},
            status=403,
        )
    return _deep_health()


def _deep_health():
    from django.core.cache import cache

    from config.tasks import queue_stats

    body = {"status": "ok", "database": "up"}
    probe = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(probe, 1, 10)
        body["cache"] = "up" if cache.get(probe) == 1 else "down"
        cache.delete(probe)
    except Exception:  # noqa: BLE001 - any cache failure is "down"
        body["cache"] = "down"
    try:
        stats = queue_stats()
    except Exception:  # noqa: BLE001 - the queue (database or Redis) did not answer
        body["queue"] = {"draining": False, "error": "unavailable"}
    else:
        stats["draining"] = stats["oldest_wait_seconds"] <= settings.TASK_QUEUE_MAX_WAIT
        body["queue"] = stats
    if body["cache"] != "up" or not body["queue"]["draining"]:
        body["status"] = "unavailable"
        return JsonResponse(body, status=503)
    return JsonResponse(body)


def set_language(request):
    """Django's set_language, but it also keeps the page when switching away from /en/.

    Django resolves `next` in the language of the switch request (unprefixed, so Chinese), which
    fails for an /en/… page; here `next` is first resolved in its own language.
    """
    if request.method == "POST":
        next_url = request.POST.get("next", "")
        language = request.POST.get("language", "")
        try:
            next_path = urlsplit(next_url).path
        except ValueError:  # not a URL at all (`http://[::1`): go to the home page instead
            next_url = ""
            data = request.POST.copy()
            data["next"] = "/"
            request.POST = data
        if next_url and check_for_language(language):
            source = get_language_from_path(next_path) or settings.LANGUAGE_CODE
            with translation.override(source):
                translated = translate_url(next_url, language)
            data = request.POST.copy()
            data["next"] = translated
            request.POST = data
        if check_for_language(language) and getattr(request.user, "is_authenticated", False):
            # Remember the choice for ticket emails (User.language), which have no request.
            get_user_model().objects.filter(pk=request.user.pk).update(language=language)
    return i18n.set_language(request)
