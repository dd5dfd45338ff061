"""The card-data primitives: field masking, free-text scrubbing, the log filter."""

import logging
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from diagnosis.core.cards import (
    CardNumberLogFilter,
    luhn_valid,
    mask_card_field,
    scrub_text,
)


def with_check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_valid(body + digit):
            return body + digit
    raise AssertionError("unreachable")


card_numbers = st.integers(min_value=12, max_value=18).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).map(with_check_digit)
)
unionpay_numbers = st.integers(min_value=11, max_value=17).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n).map(lambda s: "62" + s)
)


def spaced(number: str, data) -> str:
    out = []
    for index, char in enumerate(number):
        if index:
            out.append(data.draw(st.sampled_from(["", "", " ", "-"])))
        out.append(char)
    return "".join(out)


def test_luhn():
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1234", "1234"),
        ("6228 4800 1234 5678 901", "622848*********8901"),
        ("4111-1111-1111-1111", "411111******1111"),
        ("622848******1234", "622848******1234"),
        ("****1234", "1234"),
        ("", ""),
    ],
)
def test_mask_card_field(typed, stored):
    assert mask_card_field(typed) == stored


@pytest.mark.parametrize("typed", ["abcd", "12345", "4111 1111 1111 1111 1111 11"])
def test_mask_card_field_rejects_non_cards_without_echoing_them(typed):
    with pytest.raises(ValidationError) as caught:
        mask_card_field(typed)
    assert typed.replace(" ", "") not in " ".join(caught.value.messages)


@given(st.data(), st.one_of(card_numbers, unionpay_numbers))
def test_card_field_never_keeps_a_full_number(data, number):
    stored = mask_card_field(spaced(number, data))
    assert number not in stored
    assert stored == number[:6] + "*" * (len(number) - 10) + number[-4:]


@given(st.data(), st.one_of(card_numbers, unionpay_numbers), st.text(max_size=40))
def test_scrub_text_masks_numbers_inside_text(data, number, noise):
    text = f"{noise} 顾客卡号 {spaced(number, data)} 刷卡失败 {noise}"
    scrubbed = scrub_text(text)
    assert number not in re.sub(r"[ \-]", "", scrubbed)
    assert number[:6] + "*" * (len(number) - 10) + number[-4:] in scrubbed


def test_scrub_text_leaves_ordinary_numbers_alone():
    text = "RRN 123456789012, 凭证号 000123, 金额 1999.00, 电话 13800138000"
    assert scrub_text(text) == text


def test_log_filter_masks_message_and_arguments(caplog):
    logger = logging.getLogger("declinedesk.test")
    logger.addFilter(CardNumberLogFilter())
    try:
        with caplog.at_level(logging.INFO, logger="declinedesk.test"):
            logger.info("card %s declined", "4111 1111 1111 1111")
            try:
                raise ValueError("6222021234567890123")
            except ValueError:
                logger.exception("failed")
    finally:
        logger.filters.clear()
    output = caplog.text
    assert "4111 1111 1111 1111" not in output
    assert "411111******1111" in output
    assert "6222021234567890123" not in output
