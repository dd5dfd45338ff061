"""Card data rules (PRODUCT.md): a full card number never reaches storage, logs or responses.

- `mask_card_field(value)` normalises what was typed into a card field: last 4 digits, or
  first 6 + last 4 with `*` in between; a full number is reduced to first 6 + last 4.
- `scrub_text(text)` masks card numbers inside free text, however they were typed:
  * every Unicode decimal digit counts (full-width ６２２２ from a Chinese input method, other
    scripts' digits), and so do characters whose NFKC form is digits (superscripts, ①);
  * digits separated by a short run of characters that are not letters or digits (spaces, tabs,
    line breaks, dots, dashes, slashes, non-breaking and full-width spaces, `*`…) belong to one
    digit sequence;
  * every 13–19 digit window of such a sequence is tested, so a card number glued to another
    number (`4111111111111111 100`, `4111 1111 1111 1111 12/25`) is still found;
  * a window that passes the Luhn check or starts with 62 (UnionPay) is masked: its first 6 and
    last 4 digits are kept, the rest become `*`, and the separators inside it are dropped.
  The scan repeats until nothing changes, so the result itself holds no such window: scrubbing
  is idempotent, and no window of the output's digits can equal a card number that was typed.
  False positives are accepted in free text (a 15-digit MID or two adjacent numbers may be
  masked there); identifiers are never scrubbed in their own fields.
- `scrub_echo(text)` is `scrub_text` for text that may hold URL-encoded input (log lines, the
  request line, debug pages): numbers hidden behind `%20`/`+` are masked too.
- `CardNumberLogFilter` applies `scrub_echo` (and hides API tokens) to every log record.
"""

import logging
import re
import unicodedata
from urllib.parse import unquote_plus

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MASK_CHAR = "*"
MIN_DIGITS, MAX_DIGITS = 13, 19
# A separator is a run of at most this many visible characters that are neither letters nor
# digits (zero-width and combining characters are not counted: they cannot hide a number).
MAX_SEPARATOR = 4
# Digit sequences longer than this are masked whole but for their first 6 and last 4 digits:
# no legitimate free text holds one, and testing every window of a huge one costs time.
LONG_RUN = 400
INVISIBLE = {"Cf", "Mn", "Me"}


def _nfkc_digit_chars() -> dict[str, str]:
    """Characters that are not decimal digits but whose NFKC form is (superscripts, ①, ㉑)."""
    ranges = [
        (0x00B2, 0x00BA),
        (0x2070, 0x208A),
        (0x2460, 0x2500),
        (0x2776, 0x2794),
        (0x3220, 0x3260),
        (0x3280, 0x32C0),
        (0x1F100, 0x1F10B),
    ]
    found = {}
    for start, end in ranges:
        for code in range(start, end):
            char = chr(code)
            if char.isdecimal():
                continue
            normal = unicodedata.normalize("NFKC", char)
            if normal and all(c.isdecimal() for c in normal):
                found[char] = "".join(str(unicodedata.decimal(c)) for c in normal)
    return found


EXTRA_DIGITS = _nfkc_digit_chars()
DIGIT_CHAR = re.compile(r"[\d" + re.escape("".join(EXTRA_DIGITS)) + "]")


def _digits_of(char: str) -> str:
    if "0" <= char <= "9":
        return char
    extra = EXTRA_DIGITS.get(char)
    if extra is not None:
        return extra
    return str(unicodedata.decimal(char))


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2 == 1:
            number *= 2
            if number > 9:
                number -= 9
        total += number
    return total % 10 == 0


def looks_like_card_number(digits: str) -> bool:
    return MIN_DIGITS <= len(digits) <= MAX_DIGITS and (
        digits.startswith("62") or luhn_valid(digits)
    )


def mask_digits(digits: str) -> str:
    """First 6 and last 4 digits kept, everything between replaced by `*`."""
    return digits[:6] + MASK_CHAR * (len(digits) - 10) + digits[-4:]


def _is_separator(gap: str) -> bool:
    if len(gap) > 8 * MAX_SEPARATOR:
        return False
    visible = 0
    for char in gap:
        if char.isalnum():
            return False
        if unicodedata.category(char) not in INVISIBLE:
            visible += 1
            if visible > MAX_SEPARATOR:
                return False
    return True


def _sequences(text: str):
    """Digit sequences of `text`: lists of (digit, start, end) with `end` the end of the
    character holding the digit (a character like ㉑ holds two)."""
    sequence = []
    previous_end = None
    for match in DIGIT_CHAR.finditer(text):
        start, end = match.span()
        if (
            previous_end is not None
            and start != previous_end
            and not _is_separator(text[previous_end:start])
        ):
            if len(sequence) >= MIN_DIGITS:
                yield sequence
            sequence = []
        for digit in _digits_of(match.group()):
            sequence.append((digit, start, end))
        previous_end = end
    if len(sequence) >= MIN_DIGITS:
        yield sequence


_DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9]


def _card_windows(digits: str) -> list[tuple[int, int]]:
    """Every (start, end) window of 13–19 digits that looks like a card number. The Luhn sum of
    any window is read from two prefix sums (one per parity of the doubled positions)."""
    n = len(digits)
    values = [ord(c) - 48 for c in digits]
    # sums[p][i]: sum over j < i of the digit, doubled (Luhn) where j % 2 == p.
    sums = ([0] * (n + 1), [0] * (n + 1))
    for parity in (0, 1):
        running, column = 0, sums[parity]
        for index, value in enumerate(values):
            running += _DOUBLED[value] if index % 2 == parity else value
            column[index + 1] = running
    windows = []
    for start in range(n - MIN_DIGITS + 1):
        union_pay = digits[start] == "6" and digits[start + 1] == "2"
        for end in range(start + MIN_DIGITS, min(start + MAX_DIGITS, n) + 1):
            # The last digit is never doubled: doubled positions have the other parity.
            column = sums[(end - 2) % 2]
            if union_pay or (column[end] - column[start]) % 10 == 0:
                windows.append((start, end))
    return windows


def _scrub_once(text: str) -> str:
    pieces = []
    position = 0
    for sequence in _sequences(text):
        digits = "".join(digit for digit, _start, _end in sequence)
        n = len(digits)
        windows = [(0, n)] if n > LONG_RUN else _card_windows(digits)
        if not windows:
            continue
        starred = bytearray(n)  # 1: replaced by the mask character
        joined = bytearray(n)  # 1: the separator after this digit is dropped
        for start, end in windows:
            for index in range(start + 6, end - 4):
                starred[index] = 1
            for index in range(start, end - 1):
                joined[index] = 1
        for index, (_digit, start, end) in enumerate(sequence):
            if index and sequence[index - 1][1] == start:
                continue  # second digit of one character (㉑): written with the first
            pieces.append(text[position:start])
            group = [index]
            while group[-1] + 1 < n and sequence[group[-1] + 1][1] == start:
                group.append(group[-1] + 1)
            if any(starred[i] or joined[i] or (i and joined[i - 1]) for i in group):
                pieces.append("".join(MASK_CHAR if starred[i] else sequence[i][0] for i in group))
            else:
                pieces.append(text[start:end])
            position = end
            last = group[-1]
            if last + 1 < n and joined[last]:
                position = sequence[last + 1][1]  # drop the separator to the next digit
    if not pieces:
        return text
    pieces.append(text[position:])
    return "".join(pieces)


def _may_hold_card(text: str) -> bool:
    for count, _match in enumerate(DIGIT_CHAR.finditer(text), start=1):
        if count >= MIN_DIGITS:
            return True
    return False


def scrub_text(text):
    """Mask card numbers inside free text; anything that is not text is returned unchanged."""
    if not isinstance(text, str) or len(text) < MIN_DIGITS or not _may_hold_card(text):
        return text
    while True:
        scrubbed = _scrub_once(text)
        if scrubbed == text:
            return text
        text = scrubbed


def contains_card_number(text) -> bool:
    return isinstance(text, str) and scrub_text(text) != text


def scrub_value(value):
    """`scrub_text` applied to every string inside JSON-like data (dicts, lists, tuples)."""
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub_value(key): scrub_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item) for item in value)
    return value


# API tokens (diagnosis/tickets/api_tokens.py) look like dd_<43 url-safe characters>.
API_TOKEN = re.compile(r"\bdd_[A-Za-z0-9_\-]{16,}")
TOKEN_HIDDEN = "dd_[hidden]"


def hide_tokens(text: str) -> str:
    return API_TOKEN.sub(TOKEN_HIDDEN, text) if "dd_" in text else text


def scrub_echo(text):
    """For text that may quote URL-encoded input (request lines, debug pages, log messages):
    card numbers are masked also where only the URL-decoded text shows them (`4111%201111…`,
    `4111+1111…`), and API tokens are hidden."""
    if not isinstance(text, str):
        return text
    text = hide_tokens(scrub_text(text))
    if "%" in text or "+" in text:
        decoded = unquote_plus(text, errors="replace")
        if decoded != text and (contains_card_number(decoded) or API_TOKEN.search(decoded)):
            return hide_tokens(scrub_text(decoded))
    return text


MASKED_FORMS = (
    re.compile(r"^\d{4}$"),  # last 4
    re.compile(r"^\d{6}\*{3,9}\d{4}$"),  # first 6 + last 4, 13–19 long
    re.compile(r"^\*{3,15}\d{4}$"),  # stars + last 4
)


def _compact_card(value: str) -> str:
    """Digits (any script, full-width included, as ASCII) and mask characters of a card field
    entry; separators of any kind are dropped, letters are kept (so that they fail)."""
    normal = unicodedata.normalize("NFKC", value or "")
    out = []
    for char in normal:
        if char.isdecimal():
            out.append(str(unicodedata.decimal(char)))
        elif char in "*xX":
            out.append(MASK_CHAR)
        elif char.isalnum():
            out.append(char)
    return "".join(out)


def mask_card_field(value: str) -> str:
    """Normalise a card field entry; raises ValidationError for anything that is not a card.

    Accepts the last 4 digits, an already masked number, or a full number (13–19 digits, any
    separators, full-width digits too), which is reduced to first 6 + last 4 before anything
    else sees it.
    """
    compact = _compact_card(value)
    if not compact:
        return ""
    if compact.isdigit() and MIN_DIGITS <= len(compact) <= MAX_DIGITS:
        return mask_digits(compact)
    if any(pattern.match(compact) for pattern in MASKED_FORMS):
        if compact.startswith(MASK_CHAR):
            return compact[-4:]
        return compact
    if compact.isdigit() and len(compact) > MAX_DIGITS:
        # Never echo what was typed: it may be a card number with extra digits.
        raise ValidationError(
            _("卡号太长：请只填写卡号后 4 位，或前 6 位加后 4 位。"), code="card_too_long"
        )
    raise ValidationError(
        _("请填写卡号后 4 位（例如 1234），或前 6 位加后 4 位（例如 622848******1234）。"),
        code="card_format",
    )


class CardNumberLogFilter(logging.Filter):
    """Masks card numbers (also URL-encoded ones) and hides API tokens in every log record:
    message, arguments and exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            message = str(record.msg)
        record.msg = scrub_echo(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_echo(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        return True
