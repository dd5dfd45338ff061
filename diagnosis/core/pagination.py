"""Keyset ("cursor", "seek") pagination: the one paginator of every long list.

Used by the merchant's ticket list and the ticket API (newest first), the agents' queue (five
sort orders), the escalation batch list and the tickets of an incident.

Why not Paginator: it runs `SELECT COUNT(*)` over the whole filtered set on every page view and
then `OFFSET n`, both of which grow with the table (1,000,000 tickets). A keyset page is "the
next N rows after this row in the sort order": one indexed range scan of `per_page + 1` rows
whatever the page, written as `k1 <= v1 AND ((k1 < v1) OR (k1 = v1 AND k2 < v2) …)` so that the
index seeks straight to the cursor. The extra row tells whether there is a next page. Nothing
counts the whole table: a caller that shows a total asks for a capped count (`COUNT(*)` over at
most `count_cap + 1` rows, shown as "1,000+" beyond the cap), one more query.

The sort order is a tuple of `SortKey`s whose last key is the primary key, so the order is
total. Cursors are opaque strings of letters only (the row's sort values as JSON, each byte
written as two letters a–p), so no URL ever carries a digit run that could be mistaken for a card
number; a broken or forged cursor is treated as "first page" rather than an error, and can only
move within the rows the caller was already allowed to see.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q
from django.utils import timezone

MAX_PER_PAGE = 100
MAX_CURSOR_LENGTH = 400
LETTERS = "abcdefghijklmnop"  # one letter per hex digit: no digits in a URL
_TO_LETTERS = str.maketrans("0123456789abcdef", LETTERS)
_FROM_LETTERS = str.maketrans(LETTERS, "0123456789abcdef")


@dataclass(frozen=True)
class SortKey:
    field: str
    descending: bool = False
    nullable: bool = False  # NULLs always sort last in the forward direction
    integer: bool = False  # the value is an integer (else an aware datetime)


NEWEST_FIRST = (SortKey("created_at", descending=True), SortKey("id", True, integer=True))


# --- cursors --------------------------------------------------------------------------------------


def encode_cursor(values) -> str:
    data = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(data, separators=(",", ":")).encode()
    return raw.hex().translate(_TO_LETTERS)


def _decode_value(key: SortKey, value):
    """(ok, value) for one cursor value checked against its key."""
    if value is None:
        return key.nullable, None
    if key.integer:
        # a forged huge or negative number must not reach the database
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
        return ok, value
    if not isinstance(value, str):
        return False, None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return False, None
    return not timezone.is_naive(moment), moment


def decode_cursor(token, keys) -> list | None:
    """The cursor's values, or None when the token is not one of ours (then: first page)."""
    if not token or not isinstance(token, str) or len(token) > MAX_CURSOR_LENGTH:
        return None
    if token.strip(LETTERS):
        return None
    try:
        data = json.loads(bytes.fromhex(token.translate(_FROM_LETTERS)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, list) or len(data) != len(keys):
        return None
    values = []
    for key, value in zip(keys, data, strict=True):
        ok, decoded = _decode_value(key, value)
        if not ok:
            return None
        values.append(decoded)
    return values


# --- the query ------------------------------------------------------------------------------------


def _descending(key: SortKey, forward: bool) -> bool:
    return key.descending if forward else not key.descending


def _after(key: SortKey, value, forward: bool) -> Q | None:
    """Rows strictly after `value` on this key (in the forward or backward direction)."""
    name = key.field
    if key.nullable:  # ascending, NULLs last
        if forward:
            if value is None:
                return None  # nothing comes after the NULLs on this key
            return Q(**{f"{name}__gt": value}) | Q(**{f"{name}__isnull": True})
        if value is None:
            return Q(**{f"{name}__isnull": False})
        return Q(**{f"{name}__lt": value})
    return Q(**{f"{name}__lt" if _descending(key, forward) else f"{name}__gt": value})


def _equal(key: SortKey, value) -> Q:
    if value is None:
        return Q(**{f"{key.field}__isnull": True})
    return Q(**{key.field: value})


def keyset_filter(keys, values, forward: bool = True) -> Q:
    """Lexicographic "after the cursor row": (k1 > v1) OR (k1 = v1 AND k2 > v2) OR …"""
    condition = Q(pk__in=[])
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        step = _after(key, value, forward)
        if step is not None:
            condition |= prefix & step
        prefix &= _equal(key, value)
    first, value = keys[0], values[0]
    if not first.nullable:
        # Redundant with the OR above, but lets the index seek straight to the cursor.
        bound = "lte" if _descending(first, forward) else "gte"
        condition &= Q(**{f"{first.field}__{bound}": value})
    return condition


def keyset_order(keys, forward: bool = True) -> list:
    order = []
    for key in keys:
        if key.nullable:
            expr = (
                F(key.field).asc(nulls_last=True)
                if forward
                else F(key.field).desc(nulls_first=True)
            )
        else:
            expr = F(key.field).desc() if _descending(key, forward) else F(key.field).asc()
        order.append(expr)
    return order


@dataclass
class KeysetPage:
    items: list
    has_next: bool = False
    has_previous: bool = False
    next_cursor: str = ""  # set only when there is a next page
    previous_cursor: str = ""  # set only when there is a previous page
    count: int | None = None  # capped count, when the caller asked for one
    count_capped: bool = False

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def has_other_pages(self) -> bool:
        return self.has_next or self.has_previous


def keyset_page(
    queryset, keys=NEWEST_FIRST, *, after="", before="", per_page=20, count_cap=None
) -> KeysetPage:
    """One page of `queryset` (filters applied) in the order of `keys`.

    `after`: cursor of the last row of the previous page (go on in the sort order);
    `before`: cursor of the first row of the next page (go back). One query, plus a capped
    count when `count_cap` is given.
    """
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    count = None
    if count_cap is not None:
        # Capped count: COUNT(*) over at most count_cap + 1 rows, without the display joins.
        count = queryset.select_related(None).order_by().values("pk")[: count_cap + 1].count()
    before_values = decode_cursor(before, keys) if before else None
    after_values = decode_cursor(after, keys) if (after and before_values is None) else None

    if before_values is not None:
        rows = list(
            queryset.filter(keyset_filter(keys, before_values, forward=False)).order_by(
                *keyset_order(keys, forward=False)
            )[: per_page + 1]
        )
        has_previous = len(rows) > per_page
        rows = list(reversed(rows[:per_page]))
        has_next = True
    else:
        if after_values is not None:
            queryset = queryset.filter(keyset_filter(keys, after_values))
        rows = list(queryset.order_by(*keyset_order(keys))[: per_page + 1])
        has_next = len(rows) > per_page
        rows = rows[:per_page]
        has_previous = after_values is not None

    def cursor(row):
        return encode_cursor([getattr(row, key.field) for key in keys])

    page = KeysetPage(items=rows, has_next=has_next and bool(rows))
    page.has_previous = has_previous and bool(rows)
    page.next_cursor = cursor(rows[-1]) if page.has_next else ""
    page.previous_cursor = cursor(rows[0]) if page.has_previous else ""
    if count is not None:
        page.count, page.count_capped = min(count, count_cap), count > count_cap
    return page
