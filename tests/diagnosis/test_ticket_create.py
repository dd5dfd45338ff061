"""Recording a decline through the service: numbering, masking, validation, SLA, category."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections
from django.utils import timezone, translation

from diagnosis.models import Ticket, TicketCounter, TicketEvent
from diagnosis.tickets.services import ticket_create
from tests import factories

FULL_CARD = "6228480402564890018"  # 19 digits, UnionPay


def create(merchant_user, **kwargs):
    defaults = {
        "tid": "ABCD1234",
        "transaction_time": timezone.now() - timedelta(minutes=30),
        "amount": "88.00",
    }
    return ticket_create(
        merchant=merchant_user.merchant, user=merchant_user, **{**defaults, **kwargs}
    )


@pytest.mark.django_db
def test_readable_sequential_numbers(merchant_user):
    year = timezone.localtime().year
    first = create(merchant_user)
    second = create(merchant_user)
    assert first.number == f"DD-{year}-000001"
    assert second.number == f"DD-{year}-000002"
    assert TicketCounter.objects.get(year=year).last == 2
    assert first.get_absolute_url() == f"/tickets/{first.number}/"


@pytest.mark.django_db
def test_card_masked_and_text_scrubbed_before_storage(merchant_user):
    ticket = create(
        merchant_user,
        card_number="6228 4804 0256 4890 018",
        description=f"顾客卡号 {FULL_CARD} 刷了两次",
        wizard_summary=f"向导：卡号 {FULL_CARD}",
    )
    stored = Ticket.objects.get(pk=ticket.pk)
    assert stored.card_masked == "622848*********0018"
    assert FULL_CARD not in stored.description
    assert "622848*********0018" in stored.description
    assert FULL_CARD not in stored.wizard_summary


@pytest.mark.django_db
def test_terminal_linked_and_status_new_with_history(merchant_user, terminal):
    ticket = create(merchant_user, tid=terminal.tid.lower(), response_code="a0")
    assert ticket.terminal == terminal and ticket.tid == terminal.tid
    assert ticket.status == Ticket.Status.NEW
    assert ticket.acquirer == merchant_user.merchant.acquirer
    assert ticket.response_code == "A0"
    event = ticket.events.get()
    assert (event.kind, event.author, event.new_value) == (
        TicketEvent.Kind.CREATED,
        merchant_user,
        "new",
    )


@pytest.mark.django_db
def test_first_response_due_set(merchant_user):
    ticket = create(merchant_user)
    assert ticket.first_response_due > ticket.created_at
    assert ticket.first_responded_at is None


@pytest.mark.django_db
def test_foreign_terminal_rejected(merchant_user):
    foreign = factories.terminal()
    with pytest.raises(ValidationError) as error:
        create(merchant_user, terminal=foreign)
    assert "tid" in error.value.message_dict


@pytest.mark.django_db
def test_other_merchants_user_cannot_create(merchant_user, other_merchant_user):
    with pytest.raises(PermissionDenied):
        ticket_create(
            merchant=merchant_user.merchant,
            user=other_merchant_user,
            tid="ABCD1234",
            transaction_time=timezone.now(),
            amount="1.00",
        )


@pytest.mark.django_db
def test_category_derived_from_response_code(merchant_user):
    from knowledge.models import Category, ResponseCode

    category = Category.objects.create(key="funds_limits", name_zh="余额", name_en="Funds")
    ResponseCode.objects.create(
        code="51",
        category=category,
        who_acts="cardholder",
        retry="later",
        meaning_zh="余额不足",
        meaning_en="Insufficient funds",
        explanation_zh="x",
        explanation_en="x",
    )
    assert create(merchant_user, response_code="51").category == category


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"tid": ""}, "tid"),
        ({"tid": "12 34"}, "tid"),
        ({"amount": "0"}, "amount"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "1.234"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"amount": "NaN"}, "amount"),
        ({"transaction_time": timezone.now() + timedelta(hours=2)}, "transaction_time"),
        ({"card_number": "12345"}, "card_masked"),
        ({"response_code": "510"}, "response_code"),
        ({"rrn": "123"}, "rrn"),
        ({"trace_number": "12a456"}, "trace_number"),
        ({"batch_number": "1"}, "batch_number"),
        ({"currency": "RMB1"}, "currency"),
        ({"card_type": "gold"}, "card_type"),
    ],
)
def test_invalid_input_rejected_by_field(merchant_user, kwargs, field):
    with pytest.raises(ValidationError) as error:
        create(merchant_user, **kwargs)
    assert field in error.value.message_dict
    assert not Ticket.objects.exists()


def messages_in(language, merchant_user, **bad):
    with translation.override(language):
        with pytest.raises(ValidationError) as error:
            create(merchant_user, **bad)
        return {field: [str(m) for m in ms] for field, ms in error.value.message_dict.items()}


@pytest.mark.django_db
def test_validation_messages_in_both_languages(merchant_user):
    bad = {"amount": "0", "rrn": "1", "transaction_time": timezone.now() + timedelta(days=1)}
    zh = messages_in("zh-hans", merchant_user, **bad)
    en = messages_in("en", merchant_user, **bad)
    assert zh["amount"] == ["金额必须大于 0。"]
    assert en["amount"] == ["The amount must be greater than 0."]
    assert zh["transaction_time"] == ["交易时间不能晚于现在。"]
    assert en["transaction_time"] == ["The transaction time cannot be in the future."]
    assert zh["rrn"] == ["参考号（RRN）是 12 位数字或字母。"]
    assert en["rrn"] == ["The retrieval reference number (RRN) is 12 digits or letters."]


@pytest.mark.django_db
def test_amount_keeps_two_decimals(merchant_user):
    assert create(merchant_user, amount="1,280.5").amount == Decimal("1280.50")


@pytest.mark.django_db(transaction=True)
def test_numbers_unique_under_concurrency_on_postgresql():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises all writers; row locks are only meaningful on PostgreSQL")
    user = factories.merchant_user()
    workers, per_worker = 8, 5
    numbers, errors = [], []
    barrier = threading.Barrier(workers)

    def work():
        try:
            barrier.wait()
            for _ in range(per_worker):
                numbers.append(create(user).number)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(numbers) == len(set(numbers)) == workers * per_worker
    year = timezone.localtime().year
    assert sorted(numbers) == [f"DD-{year}-{n:06d}" for n in range(1, workers * per_worker + 1)]
