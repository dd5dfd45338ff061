"""Rendered rows kept in the cache: a list page renders only the rows that changed.

The agents' queue and the merchant's ticket list show 20–30 rows, each a small template
(links, dates, translated labels) that costs more to render than the page's queries. A row's
HTML depends only on its ticket and on what goes into its key (`updated_at`, the overdue flag,
the language…), so it is rendered once and then read back with one `get_many` per page; a
change to the ticket changes `updated_at` and so the key. Names shown beside the ticket (the
merchant's, the assignee's) may lag behind a rename by at most ROW_SECONDS.
"""

import hashlib

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

ROW_SECONDS = 300


def cached_rows(template_name: str, items, *, key, name="item", context=None, load=None) -> list:
    """One rendered `template_name` per item (as `name` in its context), in the items' order.

    key(item) -> str must change whenever the row's HTML would. With `load`, the items are
    light (only what the keys need): load(missing) returns the full items for the rows that
    are not in the cache, in the same order — a page served from the cache loads no more.
    """
    language = get_language() or ""
    keys = []
    for item in items:
        raw = f"{template_name}|{language}|{key(item)}"
        keys.append("row:" + hashlib.sha256(raw.encode()).hexdigest()[:32])
    found = cache.get_many(keys) if keys else {}
    if load is not None:
        misses = [
            item for cache_key, item in zip(keys, items, strict=True) if cache_key not in found
        ]
        full = iter(load(misses) if misses else ())
    rows, missing = [], {}
    for cache_key, item in zip(keys, items, strict=True):
        html = found.get(cache_key)
        if html is None:
            if load is not None:
                item = next(full)
            html = render_to_string(template_name, {**(context or {}), name: item})
            missing[cache_key] = html
        rows.append(mark_safe(html))  # noqa: S308 - our own rendered (autoescaped) template
    if missing:
        cache.set_many(missing, ROW_SECONDS)
    return rows
