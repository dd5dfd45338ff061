"""Property-based proof that free-text masking cannot be typed around (issue 14).

hypothesis generates real-looking card numbers (Luhn-valid 13–19 digits, UnionPay numbers
starting with 62), types them the way people and input methods do (random separators: spaces,
double spaces, tabs, dots, dashes, slashes, non-breaking and full-width spaces, line breaks;
full-width digits; other numbers glued before and after), embeds them in random Chinese/English
text, and checks that after `scrub_text` no window of the normalised digits equals the number.

The number of examples comes from the hypothesis profile (tests/conftest.py): at least 500 in CI
("ci", selected when CI is set) and locally ("declinedesk"); both stay within a few seconds.
"""

import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from diagnosis.core.cards import (
    LONG_RUN,
    luhn_valid,
    mask_card_field,
    scrub_echo,
    scrub_text,
)

SEPARATORS = [
    " ",
    "  ",
    "\t",
    "-",
    " - ",
    ".",
    "/",
    "\u00a0",  # non-breaking space
    "\u3000",  # full-width (ideographic) space
    "\n",
    "\r\n",
    "_",
    "*",
    ",",
    "\u200b",  # zero-width space
    "\uff0d",  # full-width hyphen
]
WORDS = [
    "卡号",
    "顾客",
    "刷卡",
    "被拒",
    "金额",
    "交易",
    "终端",
    "card",
    "declined",
    "amount",
    "terminal",
    "RRN",
    "元",
    "，",
    "。",
    ":",
    "：",
    " ",
    "\n",
    "(",
    ")",
]


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw) -> str:
    length = draw(st.integers(13, 19))
    if draw(st.booleans()):
        return "62" + draw(st.text("0123456789", min_size=length - 2, max_size=length - 2))
    first = draw(st.sampled_from("3456"))
    body = draw(st.text("0123456789", min_size=length - 2, max_size=length - 2))
    return _luhn_complete(first + body)


FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}


@st.composite
def typed(draw, number: str) -> str:
    """The number as someone might type it: separators, full-width digits, glued numbers."""
    full_width = draw(st.sampled_from(["none", "none", "all", "some"]))
    out = []
    for index, digit in enumerate(number):
        if index and draw(st.integers(0, 3)) == 0:
            out.append(draw(st.sampled_from(SEPARATORS)))
        if full_width == "all" or (full_width == "some" and draw(st.booleans())):
            digit = FULL_WIDTH[digit]
        out.append(digit)
    text = "".join(out)
    glue = st.sampled_from(["", " ", "  ", "\t", "/", "-", "\n", "\u3000"])
    if draw(st.booleans()):  # another number right before: 金额100 6222…
        text = draw(st.text("0123456789", min_size=1, max_size=6)) + draw(glue) + text
    if draw(st.booleans()):  # … right after: 4111… 12/25
        text = text + draw(glue) + draw(st.text("0123456789/", min_size=1, max_size=6))
    return text


text_around = st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=6).map(
    "".join
)


def normalised_digit_sequences(text: str) -> list[str]:
    """Every maximal digit sequence of the NFKC form of `text`, where digits separated by any
    characters other than letters and digits belong together (stricter than the scrubber,
    which allows only short separators)."""
    normal = unicodedata.normalize("NFKC", text)
    sequences, current = [], []
    for char in normal:
        if char.isdecimal():
            current.append(str(unicodedata.decimal(char)))
        elif char.isalnum():
            sequences.append("".join(current))
            current = []
    sequences.append("".join(current))
    return [s for s in sequences if s]


PROOF = settings.get_profile("card_proof")


def windows_equal(text: str, number: str) -> bool:
    return any(number in sequence for sequence in normalised_digit_sequences(text))


@PROOF
@given(
    st.data(),
    st.lists(card_numbers(), min_size=1, max_size=3),
    text_around,
    text_around,
)
@example(None, ["4111111111111111"], "card ", " 100")  # the reproductions of issue 14
def test_no_typed_card_number_survives_scrubbing(data, numbers, before, after):
    """≥ 500 examples (profile "card_proof")."""
    if data is None:
        pieces = [before, numbers[0], after]
    else:
        pieces = [before]
        for number in numbers:
            pieces.append(data.draw(typed(number)))
            pieces.append(data.draw(text_around))
        pieces.append(after)
    text = "".join(pieces)
    scrubbed = scrub_text(text)
    for number in numbers:
        assert not windows_equal(scrubbed, number), (text, scrubbed, number)
    assert scrub_text(scrubbed) == scrubbed  # idempotent: nothing left to find


@given(st.text(max_size=200))
def test_scrubbing_is_idempotent_and_keeps_text_without_digits(text):
    scrubbed = scrub_text(text)
    assert scrub_text(scrubbed) == scrubbed
    if sum(ch.isdecimal() for ch in unicodedata.normalize("NFKC", text)) < 13:
        assert scrubbed == text


@PROOF
@given(st.data(), card_numbers())
def test_card_field_reduces_any_typing_to_first_six_and_last_four(data, number):
    entry = data.draw(typed(number))
    if "*" in entry:  # in the card field, * is the mask character, not a separator
        return
    digits = "".join(
        str(unicodedata.decimal(c)) for c in unicodedata.normalize("NFKC", entry) if c.isdecimal()
    )
    if digits != number:  # glued numbers: not a card field entry any more
        return
    assert mask_card_field(entry) == number[:6] + "*" * (len(number) - 10) + number[-4:]


@given(card_numbers(), st.sampled_from(["+", "%20", "%C2%A0", "-", "%2D"]))
def test_url_encoded_numbers_are_masked_in_echoes(number, separator):
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    line = f"GET /search/?q={separator.join(groups)} HTTP/1.1"
    echoed = scrub_echo(line)
    assert not windows_equal(echoed, number)
    assert not windows_equal(
        echoed.replace("%20", " ").replace("%C2%A0", " ").replace("%2D", "-"), number
    )


def test_issue_reproductions_are_masked():
    cases = {
        "card 4111111111111111 100": "4111111111111111",
        "4111 1111 1111 1111 12/25": "4111111111111111",
        "金额100 卡号6222021234567890123 88": "6222021234567890123",
        "4111.1111.1111.1111": "4111111111111111",
        "4111  1111  1111  1111": "4111111111111111",
        "4111\t1111\t1111\t1111": "4111111111111111",
        "4111\u00a01111\u00a01111\u00a01111": "4111111111111111",
        "4111\u30001111\u30001111\u30001111": "4111111111111111",
        "６２２２０２１２３４５６７８９０１２３": "6222021234567890123",
    }
    for text, number in cases.items():
        scrubbed = scrub_text(text)
        assert not windows_equal(scrubbed, number), (text, scrubbed)
        assert "*" in scrubbed
    # The common forms keep the familiar first 6 + last 4 shape.
    assert scrub_text("卡号 4111 1111 1111 1111 被拒") == "卡号 411111******1111 被拒"
    assert scrub_text("６２２２０２１２３４５６７８９０１２３") == "622202*********0123"


def test_short_numbers_and_identifiers_in_their_own_shape_are_kept():
    for text in [
        "RRN 123456789012",
        "终端 10060001，凭证号 000123，批次号 000045",
        "金额 128.50 元",
        "工单 DD-2026-000123",
        "交易时间 2026-03-01T14:30:00+08:00",
    ]:
        assert scrub_text(text) == text


def test_a_huge_digit_run_is_masked_quickly():
    import time

    started = time.perf_counter()
    scrubbed = scrub_text("1" * (LONG_RUN * 50))
    assert time.perf_counter() - started < 2
    assert scrubbed == "111111" + "*" * (LONG_RUN * 50 - 10) + "1111"
