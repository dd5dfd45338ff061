"""Keyset ("cursor") pagination over (created_at, pk), newest first.

Why not Paginator: it runs `SELECT COUNT(*)` over the whole filtered set on every page view and
then `OFFSET n`, both of which grow with the table (1,000,000 tickets). A keyset page is one
indexed range scan of `per_page + 1` rows whatever the page: `WHERE (created_at, id) < cursor
ORDER BY created_at DESC, id DESC LIMIT per_page + 1`, written as `created_at <= c AND
(created_at < c OR id < pk)` so the index seeks straight to the cursor, and served by the
(merchant, -created_at), (merchant, status, -created_at) and (-created_at) indexes. The extra
row tells whether there is a next page; no total is ever counted. Cursors are opaque strings of
letters ("<microseconds>-<pk>", each written in base 26 with a–z), so no URL ever carries a digit
run that could be mistaken for a card number; a broken or forged cursor only moves within the
rows the caller was already allowed to see, and is treated as "first page" rather than an error.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Q

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _letters(number: int) -> str:
    out = []
    while True:
        number, digit = divmod(number, 26)
        out.append(LETTERS[digit])
        if not number:
            return "".join(reversed(out))


def _number(text: str) -> int:
    if not text or len(text) > 16 or not all("a" <= c <= "z" for c in text):
        raise ValueError(text)
    number = 0
    for char in text:
        number = number * 26 + (ord(char) - 97)
    return number


def encode_cursor(obj) -> str:
    delta = obj.created_at - EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{_letters(micros)}-{_letters(obj.pk)}"


def decode_cursor(value) -> tuple[datetime, int] | None:
    try:
        micros, pk = str(value or "").split("-")
        micros, pk = _number(micros), _number(pk)
        if micros < 0 or pk < 0 or micros > 10**17 or pk > 2**63:
            return None
        return EPOCH + timedelta(microseconds=micros), pk
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class KeysetPage:
    items: list = field(default_factory=list)
    has_next: bool = False
    has_previous: bool = False
    next_cursor: str = ""
    previous_cursor: str = ""

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def is_first(self) -> bool:
        return not self.has_previous


def keyset_page(queryset, *, after=None, before=None, per_page=20) -> KeysetPage:
    """One page of `queryset` (any filters applied) ordered by -created_at, -pk.

    `after`: cursor of the last row of the previous page (go to older rows);
    `before`: cursor of the first row of the next page (go back to newer rows).
    """
    per_page = max(1, min(int(per_page), 100))
    after_key = decode_cursor(after) if after else None
    before_key = decode_cursor(before) if before and not after_key else None

    if before_key is not None:
        created, pk = before_key
        # `created_at >= c` is redundant with the OR, but lets the index seek to the cursor.
        rows = list(
            queryset.filter(created_at__gte=created)
            .filter(Q(created_at__gt=created) | Q(pk__gt=pk))
            .order_by("created_at", "pk")[: per_page + 1]
        )
        has_previous = len(rows) > per_page
        items = list(reversed(rows[:per_page]))
        page = KeysetPage(items=items, has_previous=has_previous, has_next=True)
    else:
        if after_key is not None:
            created, pk = after_key
            # `created_at <= c` is redundant with the OR, but lets the index seek to the cursor.
            queryset = queryset.filter(created_at__lte=created).filter(
                Q(created_at__lt=created) | Q(pk__lt=pk)
            )
        rows = list(queryset.order_by("-created_at", "-pk")[: per_page + 1])
        page = KeysetPage(
            items=rows[:per_page], has_next=len(rows) > per_page, has_previous=after_key is not None
        )
    if page.items:
        page.next_cursor = encode_cursor(page.items[-1]) if page.has_next else ""
        page.previous_cursor = encode_cursor(page.items[0]) if page.has_previous else ""
    else:
        page.has_next = False
    return page
