"""Keyset pagination: every row once, forwards and backwards, ties on created_at included."""

from datetime import timedelta

import pytest
from django.utils import timezone

from diagnosis.core.pagination import NEWEST_FIRST, decode_cursor, encode_cursor, keyset_page
from diagnosis.models import Ticket
from tests import factories


@pytest.fixture
def tickets(merchant_user):
    made = [factories.ticket(merchant=merchant_user.merchant) for _ in range(7)]
    same = timezone.now() - timedelta(hours=1)
    # four tickets share one created_at: the pk breaks the tie
    Ticket.objects.filter(pk__in=[t.pk for t in made[1:5]]).update(created_at=same)
    return list(Ticket.objects.order_by("-created_at", "-pk"))


@pytest.mark.django_db
def test_forwards_and_backwards_cover_every_row_once(tickets):
    queryset = Ticket.objects.all()
    pages, page = [], keyset_page(queryset, per_page=2)
    pages.append(page)
    while page.has_next:
        page = keyset_page(queryset, after=page.next_cursor, per_page=2)
        pages.append(page)
    assert [t.pk for p in pages for t in p.items] == [t.pk for t in tickets]
    assert [p.has_previous for p in pages] == [False, True, True, True]
    backwards = []
    page = pages[-1]
    while page.has_previous:
        page = keyset_page(queryset, before=page.previous_cursor, per_page=2)
        backwards.append([t.pk for t in page.items])
    assert backwards == [[t.pk for t in p.items] for p in reversed(pages[:-1])]


def test_cursor_round_trip_and_garbage():
    ticket = Ticket(pk=42, created_at=timezone.now())
    created, pk = decode_cursor(encode_cursor([ticket.created_at, ticket.pk]), NEWEST_FIRST)
    assert (created, pk) == (ticket.created_at, 42)
    forged = [
        [ticket.created_at, -1],  # negative key
        [ticket.created_at, 2**64],  # a number the database cannot hold
        [ticket.created_at, True],
        [ticket.created_at, "42"],
        ["2026-03-01T10:00:00", 42],  # naive time
        ["yesterday", 42],
        [None, 42],  # created_at is never NULL
        [ticket.created_at],  # too few values
    ]
    garbage = ["", "x", "1.2.3", "-1.5", "9" * 40 + ".1", None, "=" * 10, "A" * 401]
    for bad in garbage + [encode_cursor(values) for values in forged]:
        assert decode_cursor(bad, NEWEST_FIRST) is None


@pytest.mark.django_db
def test_no_count_query(tickets, django_assert_num_queries):
    with django_assert_num_queries(1) as captured:
        keyset_page(Ticket.objects.all(), per_page=3)
    assert "COUNT(" not in captured.captured_queries[0]["sql"].upper()
