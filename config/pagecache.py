"""Whole-page cache for anonymous visitors of the public pages (knowledge and wizard steps).

A merchant at the counter opens `/codes/51/`; thousands open the same page. For visitors
without a session, the rendered page is kept in the cache framework (Redis when REDIS_URL is
set, local memory otherwise) and served without running the view again. What keeps it right:

- The key holds everything the page depends on for an anonymous visitor: the full path, the
  language, whether htmx asked for a fragment, the pages version (replaced whenever content,
  announcements, incidents or the wizard change: `bump()` from signals below), and the set of
  banners active right now (announcements start and end on their own schedule).
- Only a plain 200 is kept: no cookie set by the view (a vote cookie, a session), no flash
  message, nothing the view marked personal (`response.page_cache = False`).
- The CSRF token is per visitor: the stored page holds a placeholder where the token was, and
  every hit fills in a token for its own visitor.
- Responses carry a weak ETag and `Cache-Control: private, no-cache`, so browsers revalidate
  and get a 304 without a body when nothing changed (conditional GET).

Entries also expire after PAGE_CACHE_SECONDS, which bounds how stale the counters shown on a
page (popular codes, vote counts) can get.

When Redis does not answer (config/cache_backends.py: breaker open, or a read of the versions
failed), the page is rendered by the view and not stored: slower, never stale, never an error.
"""

import hashlib
import re
import threading
import time
from collections import OrderedDict
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseNotModified
from django.middleware.csrf import _unmask_cipher_token, get_token
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from django.utils.translation import get_language

from config import cache_backends, versions

PAGES_KEY = "pages:version"
PLACEHOLDER = "__declinedesk_csrf_token__"
TOKEN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
# Headers that belong to one response, never to the stored page.
PER_RESPONSE = {"set-cookie", "etag", "cache-control", "expires", "content-length", "vary"}
MESSAGES_COOKIE = "messages"
# Pages also kept in the process (their keys carry the versions, so a copy is never stale):
# a hit then costs the small version reads only, not a 30 KB fetch from Redis.
LOCAL_PAGES = 256

_local = OrderedDict()
_local_lock = threading.Lock()


def _local_get(key):
    with _local_lock:
        entry = _local.get(key)
        if entry is None:
            return None
        if entry.get("expires", 0) < time.time():  # the shared entry's own expiry
            del _local[key]
            return None
        _local.move_to_end(key)
        return entry


def _local_set(key, entry):
    with _local_lock:
        _local[key] = entry
        _local.move_to_end(key)
        while len(_local) > LOCAL_PAGES:
            _local.popitem(last=False)


def _entry(key):
    entry = _local_get(key)
    if entry is None:
        entry = cache.get(key)
        if entry is not None:
            _local_set(key, entry)
    return entry


def pages_version(found=None) -> str:
    return (found or {}).get(PAGES_KEY) or versions.current(PAGES_KEY)


def bump(**kwargs):
    """Forget every cached page (now, and again once the current transaction commits)."""
    versions.bump(PAGES_KEY)


def banners_now(found=None) -> str:
    """The banners an anonymous visitor sees right now (both lists are cached).

    found: what the caller already read from the cache (one round trip for all keys).
    """
    from diagnosis.insight.alerts import CACHE_KEY as INCIDENTS_KEY
    from diagnosis.insight.alerts import active_incidents
    from knowledge.selectors import announcement_active
    from knowledge.signals import ANNOUNCEMENTS_KEY

    found = found or {}
    pool = found.get(ANNOUNCEMENTS_KEY)
    active = announcement_active(now=timezone.now(), pool=pool)
    incidents = found.get(INCIDENTS_KEY)
    if incidents is None:
        incidents = active_incidents()
    announcements = ",".join(str(a.pk) for a in active)
    return f"{announcements}/" + ",".join(
        f"{i.pk}{i.status[:1]}{i.merchant_count}" for i in incidents
    )


def _shared_keys():
    from diagnosis.insight.alerts import CACHE_KEY as INCIDENTS_KEY
    from knowledge.signals import ANNOUNCEMENTS_KEY

    return [PAGES_KEY, ANNOUNCEMENTS_KEY, INCIDENTS_KEY]


def _anonymous(request, skip_cookies) -> bool:
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or MESSAGES_COOKIE in cookies:
        return False
    return not any(name in cookies for name in skip_cookies)


def _key(request) -> str:
    found = cache.get_many(_shared_keys())
    raw = "|".join(
        (
            pages_version(found),
            banners_now(found),
            get_language() or "",
            "htmx" if request.headers.get("HX-Request") == "true" else "page",
            request.get_full_path(),
        )
    )
    return "page:v2:" + hashlib.sha256(raw.encode()).hexdigest()


def _etag(base: str, request) -> str:
    # The page embeds a token for the visitor's CSRF cookie: a copy the browser kept stays
    # valid only while it sends the same cookie.
    secret = request.META.get("CSRF_COOKIE", "")
    return f'W/"{base}-{hashlib.sha256(secret.encode()).hexdigest()[:10]}"'


def _not_modified(request, etag: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
    return "*" in wanted or etag.removeprefix("W/") in wanted


def _storable(request, response) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    if getattr(response, "page_cache", True) is False:
        return False
    if getattr(getattr(request, "_messages", None), "added_new", False):
        return False
    session = getattr(request, "session", None)
    return not (session is not None and session.modified)


def _without_token(content: str, request) -> str | None:
    """The page with the visitor's CSRF tokens replaced by the placeholder; None if unsure."""
    secret = request.META.get("CSRF_COOKIE")
    if not secret:
        return content
    for candidate in set(TOKEN_RE.findall(content)):
        if _unmask_cipher_token(candidate) == secret:
            content = content.replace(candidate, PLACEHOLDER)
    return content


def _finish(response, request, base):
    etag = _etag(base, request)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    if "Expires" in response:
        del response["Expires"]
    patch_vary_headers(response, ("Cookie", "HX-Request"))
    return response


def public_page(view=None, *, skip_cookies=(), on_hit=None):
    """Cache a public view's page for anonymous visitors (see the module docstring).

    skip_cookies: visitors sending one of these cookies get the view itself (e.g. a voter
    cookie that changes the page). on_hit(request, *args, **kwargs) runs on every cached
    answer, for side effects the view would have had (a look-up counter).
    """

    def decorator(view_func):
        @wraps(view_func)
        def wrapper(request, *args, **kwargs):
            if request.method not in ("GET", "HEAD") or not _anonymous(request, skip_cookies):
                return view_func(request, *args, **kwargs)
            if cache_backends.degraded():
                return view_func(request, *args, **kwargs)  # Redis is skipped: render it
            with cache_backends.watch() as seen:
                key = _key(request)
            if seen.failed:  # the versions could not be read: a key made of them is no key
                return view_func(request, *args, **kwargs)
            entry = _entry(key)
            if entry is not None:
                if on_hit is not None:
                    on_hit(request, *args, **kwargs)
                content = entry["content"]
                if PLACEHOLDER in content:
                    content = content.replace(PLACEHOLDER, get_token(request))
                if _not_modified(request, _etag(entry["etag"], request)):
                    response = HttpResponseNotModified()
                else:
                    response = HttpResponse(content, status=200)
                    for name, value in entry["headers"]:
                        response[name] = value
                patch_vary_headers(response, entry["vary"])
                return _finish(response, request, entry["etag"])

            response = view_func(request, *args, **kwargs)
            if hasattr(response, "render") and callable(response.render):
                response = response.render()
            if not _storable(request, response):
                return response
            charset = response.charset or "utf-8"
            stored = _without_token(response.content.decode(charset), request)
            if stored is None:
                return response
            base = hashlib.sha256(stored.encode()).hexdigest()[:16]
            vary = tuple(v.strip() for v in response.get("Vary", "").split(",") if v.strip())
            entry = {
                "content": stored,
                "headers": [
                    (name, value)
                    for name, value in response.items()
                    if name.lower() not in PER_RESPONSE
                ],
                "vary": vary,
                "etag": base,
                "expires": time.time() + settings.PAGE_CACHE_SECONDS,
            }
            cache.set(key, entry, settings.PAGE_CACHE_SECONDS)
            _local_set(key, entry)
            if _not_modified(request, _etag(base, request)):
                not_modified = HttpResponseNotModified()
                patch_vary_headers(not_modified, vary)
                return _finish(not_modified, request, base)
            return _finish(response, request, base)

        return wrapper

    return decorator(view) if view is not None else decorator


def connect():
    """Content that public pages show: any change forgets every cached page."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from diagnosis.models import Bank, Incident, WizardVersion
    from knowledge.models import Announcement, Article, Category, ResponseCode

    for model in (Article, ResponseCode, Category, Announcement, Incident, WizardVersion, Bank):
        post_save.connect(bump, sender=model, dispatch_uid=f"pages-save-{model.__name__}")
        post_delete.connect(bump, sender=model, dispatch_uid=f"pages-del-{model.__name__}")
    for through in (Article.codes.through, Article.related.through):
        m2m_changed.connect(bump, sender=through, dispatch_uid=f"pages-m2m-{through.__name__}")
