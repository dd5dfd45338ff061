"""Likely duplicates: same TID + RRN, or same card + amount within 10 minutes (same merchant)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from diagnosis.tickets.services import ticket_find_duplicates
from tests import factories


@pytest.fixture
def existing(merchant_user):
    return factories.ticket(
        merchant=merchant_user.merchant,
        user=merchant_user,
        tid="TID00001",
        rrn="000000000042",
        card_number="622848******1234",
        amount="99.90",
        transaction_time=timezone.now() - timedelta(hours=1),
    )


def find(merchant, **kwargs):
    defaults = {
        "tid": "OTHER001",
        "rrn": "",
        "card_masked": "",
        "amount": Decimal("1.00"),
        "transaction_time": timezone.now(),
    }
    return ticket_find_duplicates(merchant=merchant, **{**defaults, **kwargs})


@pytest.mark.django_db
def test_same_tid_and_rrn(existing):
    assert find(existing.merchant, tid="tid00001", rrn="000000000042") == [existing]
    assert find(existing.merchant, tid="TID00001", rrn="000000000043") == []


@pytest.mark.django_db
def test_same_card_amount_within_ten_minutes(existing):
    when = existing.transaction_time
    # last 4 typed, or the full number: both match the stored first-6 + last-4
    assert find(existing.merchant, card_masked="1234", amount="99.90", transaction_time=when) == [
        existing
    ]
    assert find(
        existing.merchant,
        card_masked="6228480402564891234",
        amount=Decimal("99.9"),
        transaction_time=when + timedelta(minutes=9),
    ) == [existing]
    assert (
        find(
            existing.merchant,
            card_masked="1234",
            amount="99.90",
            transaction_time=when + timedelta(minutes=11),
        )
        == []
    )
    assert find(existing.merchant, card_masked="1234", amount="99.91", transaction_time=when) == []
    assert find(existing.merchant, card_masked="9999", amount="99.90", transaction_time=when) == []


@pytest.mark.django_db
def test_other_merchants_tickets_never_reported(existing, other_merchant_user):
    assert find(other_merchant_user.merchant, tid="TID00001", rrn="000000000042") == []


@pytest.mark.django_db
def test_nothing_to_compare(existing):
    assert find(existing.merchant, tid="TID00001") == []  # no RRN, no card
