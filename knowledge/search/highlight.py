"""Mark the query's words in a result text: the text is escaped first, then <mark> is added."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from knowledge.search import text as T


def highlight(value: str, cjk_terms=(), latin_terms=()) -> SafeString:
    value = value or ""
    ranges = []
    if latin_terms or cjk_terms:
        for start, end, kind, unit in T.highlight_units(value):
            if kind == "latin" and unit in latin_terms:
                ranges.append((start, end))
            elif kind == "cjk":
                for term in cjk_terms:
                    position = unit.find(term)
                    while position != -1:
                        ranges.append((start + position, start + position + len(term)))
                        position = unit.find(term, position + 1)
    if not ranges:
        return escape(value)
    ranges.sort()
    merged = [list(ranges[0])]
    for start, end in ranges[1:]:
        if start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out = []
    cursor = 0
    for start, end in merged:
        out.append(escape(value[cursor:start]))
        out.append(f"<mark>{escape(value[start:end])}</mark>")
        cursor = end
    out.append(escape(value[cursor:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece of user/editor text is escaped


def shorten(value: str, limit: int = 180) -> str:
    value = " ".join((value or "").split())
    if len(value) <= limit:
        return value
    return value[: limit - 1].rstrip() + "…"
