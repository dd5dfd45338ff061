"""The card-data rules pinned at their edges: exact masks, exact error codes, exact non-cards.

The property tests (tests/security/test_card_scrub_property.py) prove that no typed card number
survives; these say precisely what comes out, so that a rule loosened or tightened shows here.
"""

import logging
import re
from urllib.parse import unquote_plus

import pytest
from django.core.exceptions import ValidationError

from diagnosis.core import cards

VISA = "4111111111111111"  # Luhn-valid, 16 digits
UNIONPAY = "6222021234567890123"  # starts with 62, 19 digits (not Luhn-valid)
# 16 digits, and no 13–19 digit window of it passes Luhn or starts with 62
NOT_A_CARD_16 = "5260181590830166"


def test_luhn_and_card_shape():
    assert cards.luhn_valid(VISA)
    assert not cards.luhn_valid(NOT_A_CARD_16)
    assert cards.luhn_valid("0")
    assert not cards.luhn_valid("1")
    assert cards.luhn_valid("18")  # 1 doubled is 2, + 8 = 10
    assert cards.luhn_valid("59")  # 5 doubled is 10 → 1, + 9 = 10
    assert not cards.luhn_valid("95")
    assert cards.looks_like_card_number(VISA)
    assert cards.looks_like_card_number(UNIONPAY)
    assert not cards.looks_like_card_number(NOT_A_CARD_16)
    # Length bounds: 13 and 19 are cards, 12 and 20 never (even when Luhn-valid or 62…).
    assert cards.looks_like_card_number("6200000000000")  # 13
    assert not cards.looks_like_card_number("620000000000")  # 12
    assert cards.looks_like_card_number("62" + "0" * 17)  # 19
    assert not cards.looks_like_card_number("62" + "0" * 18)  # 20
    assert not cards.looks_like_card_number("0" * 12)  # Luhn-valid but 12
    assert cards.looks_like_card_number("0" * 13)


@pytest.mark.parametrize(
    ("digits", "masked"),
    [
        ("6200000000000", "620000***0000"),
        (VISA, "411111******1111"),
        (UNIONPAY, "622202*********0123"),
    ],
)
def test_mask_digits_keeps_first_six_and_last_four(digits, masked):
    assert cards.mask_digits(digits) == masked
    assert len(masked) == len(digits)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"卡号 {VISA}", "卡号 411111******1111"),
        (f"{VISA}", "411111******1111"),
        ("4111 1111 1111 1111", "411111******1111"),
        ("4111-1111-1111-1111", "411111******1111"),
        ("4111.1111.1111.1111", "411111******1111"),
        ("4111\t1111  1111\u00a01111", "411111******1111"),
        ("４１１１１１１１１１１１１１１１", "411111******1111"),
        # A number typed right after a card number is swallowed into its mask (accepted).
        (f"金额100 卡号{UNIONPAY} 88", "金额100 卡号622202***********2388"),
        # Not cards: left exactly as typed.
        (f"参考号 {NOT_A_CARD_16}", f"参考号 {NOT_A_CARD_16}"),
        ("电话 13800138000 金额 100", "电话 13800138000 金额 100"),
        ("411111111111", "411111111111"),  # 12 digits
        ("4111 1111 1111 1111".replace(" ", "      "), "4111      1111      1111      1111"),
        ("", ""),
    ],
)
def test_scrub_text_exactly(text, expected):
    assert cards.scrub_text(text) == expected
    assert cards.scrub_text(expected) == expected  # idempotent


def test_scrub_text_leaves_non_text_alone():
    for value in (None, 4111111111111111, b"4111111111111111", ["4111111111111111"]):
        assert cards.scrub_text(value) is value


def test_scrub_value_reaches_into_json():
    data = {"a": [VISA, {"b": f"x {VISA}"}], VISA: 1, "n": 4111111111111111, "t": (VISA,)}
    assert cards.scrub_value(data) == {
        "a": ["411111******1111", {"b": "x 411111******1111"}],
        "411111******1111": 1,
        "n": 4111111111111111,  # numbers are not text
        "t": ("411111******1111",),
    }


def test_contains_card_number():
    assert cards.contains_card_number(f"x {VISA}")
    assert not cards.contains_card_number(f"x {NOT_A_CARD_16}")
    assert not cards.contains_card_number(None)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("1234", "1234"),
        (" 1234 ", "1234"),
        (VISA, "411111******1111"),
        ("4111 1111 1111 1111", "411111******1111"),
        ("４１１１ １１１１ １１１１ １１１１", "411111******1111"),
        ("411111******1111", "411111******1111"),
        ("411111xxxxxx1111", "411111******1111"),
        ("************1111", "1111"),
        ("", ""),
        (NOT_A_CARD_16, "526018******0166"),  # a full-length number is reduced, card or not
    ],
)
def test_mask_card_field_exactly(typed, stored):
    assert cards.mask_card_field(typed) == stored


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("4" * 20, "card_too_long"),
        ("4" * 25, "card_too_long"),
        ("12345", "card_format"),
        ("123", "card_format"),
        ("abcdefghijklmnop", "card_format"),  # 16 letters
        ("ABCDEFGHIJKLM", "card_format"),  # 13 letters
        ("4111a11111111111", "card_format"),
        ("411111*1111", "card_format"),  # too few stars
    ],
)
def test_mask_card_field_refuses_with_its_code(typed, code):
    with pytest.raises(ValidationError) as error:
        cards.mask_card_field(typed)
    assert error.value.code == code
    if len(typed) > 4:
        assert typed not in " ".join(error.value.messages)  # never echoed


def test_scrub_echo_decodes_urls_and_hides_tokens():
    assert cards.scrub_echo("GET /search/?q=4111+1111+1111+1111") == (
        "GET /search/?q=411111******1111"
    )
    # "%20" holds digits itself: whatever the mask looks like, the decoded line has no card.
    echoed = cards.scrub_echo("q=4111%201111%201111%201111")
    assert VISA not in re.sub(r"\D", "", unquote_plus(echoed))
    assert cards.scrub_echo("token=dd_abcdefghijklmnopqrstuvwxyz") == "token=dd_[hidden]"
    assert cards.scrub_echo("q=%E4%BD%A0%E5%A5%BD") == "q=%E4%BD%A0%E5%A5%BD"  # no card: as is
    assert cards.scrub_echo(None) is None


def test_log_filter_masks_message_arguments_and_traceback():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "card %s", (VISA,), None)
    try:
        raise ValueError(f"bad {VISA}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert cards.CardNumberLogFilter().filter(record) is True
    assert record.getMessage() == "card 411111******1111"
    assert VISA not in record.exc_text and "411111******1111" in record.exc_text
    assert record.exc_info is None


def test_a_short_luhn_window_inside_a_longer_number_is_not_a_card():
    # 14 digits; digits 2–12 (11 of them) pass Luhn, but no 13–19 digit window does.
    order = "18063608377835"
    assert cards.luhn_valid(order[1:12]) or cards.luhn_valid(order[1:13])
    assert cards.scrub_text(f"订单号 {order}") == f"订单号 {order}"


def test_only_62_marks_a_unionpay_number():
    # 16 digits starting 65: no window passes Luhn, so it is kept (62 would be masked).
    assert cards.scrub_text("6556508899579032") == "6556508899579032"
    assert cards.scrub_text("7239825979190748") == "7239825979190748"  # 2 after another digit
    assert cards.scrub_text("6256508899579032") == "625650******9032"


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("卡号 622202⑫3456789012", "卡号 622202********9012"),  # ⑫ is two digits in one character
        ("卡号 6222 0㉑2 3456 7890 123", "卡号 622202*********0123"),
    ],
)
def test_a_character_holding_two_digits_is_written_once(typed, masked):
    assert cards.scrub_text(typed) == masked


@pytest.mark.parametrize(
    "typed",
    [
        "卡 4¹¹¹ ¹¹¹¹ ¹¹¹¹ ¹¹¹¹",  # superscript one (U+00B9), as a phone keyboard may type it
        "卡 41111111¹1111111",
        "卡 41111111" + "\u200b" * 32 + "11111111",  # 32 zero-width characters still join
    ],
)
def test_superscripts_and_invisible_gaps_still_make_a_card(typed):
    assert cards.scrub_text(typed) == "卡 411111******1111"
