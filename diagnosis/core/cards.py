"""Card data rules (PRODUCT.md): a full card number never reaches storage, logs or responses.

- `mask_card_field(value)` normalises what was typed into a card field: last 4 digits, or
  first 6 + last 4 with `*` in between; a full number is reduced to first 6 + last 4.
- `scrub_text(text)` masks every run of 13–19 digits (spaces or dashes allowed between digits)
  that passes the Luhn check or starts with 62 (UnionPay), inside free text.
- `CardNumberLogFilter` applies `scrub_text` to every log record.
"""

import logging
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MASK_CHAR = "*"
# 13–19 digits, single spaces or dashes allowed between digits, not glued to other digits.
CARD_RUN = re.compile(r"(?<!\d)\d(?:[ \-]?\d){12,18}(?!\d)")
SEPARATORS = re.compile(r"[\s\-]")


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
    return 13 <= len(digits) <= 19 and (digits.startswith("62") or luhn_valid(digits))


def mask_digits(digits: str) -> str:
    """First 6 and last 4 digits kept, everything between replaced by `*`."""
    return digits[:6] + MASK_CHAR * (len(digits) - 10) + digits[-4:]


def scrub_text(text):
    """Mask card numbers inside free text; anything that is not text is returned unchanged."""
    if not isinstance(text, str) or len(text) < 13:
        return text

    def replace(match):
        digits = SEPARATORS.sub("", match.group(0))
        return mask_digits(digits) if looks_like_card_number(digits) else match.group(0)

    return CARD_RUN.sub(replace, text)


MASKED_FORMS = (
    re.compile(r"^\d{4}$"),  # last 4
    re.compile(r"^\d{6}\*{3,9}\d{4}$"),  # first 6 + last 4, 13–19 long
    re.compile(r"^\*{3,15}\d{4}$"),  # stars + last 4
)


def mask_card_field(value: str) -> str:
    """Normalise a card field entry; raises ValidationError for anything that is not a card.

    Accepts the last 4 digits, an already masked number, or a full number (13–19 digits, spaces
    or dashes allowed), which is reduced to first 6 + last 4 before anything else sees it.
    """
    compact = SEPARATORS.sub("", value or "").replace("X", MASK_CHAR).replace("x", MASK_CHAR)
    if not compact:
        return ""
    if compact.isdigit() and 13 <= len(compact) <= 19:
        return mask_digits(compact)
    if any(pattern.match(compact) for pattern in MASKED_FORMS):
        if compact.startswith(MASK_CHAR):
            return compact[-4:]
        return compact
    if compact.isdigit() and len(compact) > 19:
        # Never echo what was typed: it may be a card number with extra digits.
        raise ValidationError(
            _("卡号太长：请只填写卡号后 4 位，或前 6 位加后 4 位。"), code="card_too_long"
        )
    raise ValidationError(
        _("请填写卡号后 4 位（例如 1234），或前 6 位加后 4 位（例如 622848******1234）。"),
        code="card_format",
    )


class CardNumberLogFilter(logging.Filter):
    """Masks card numbers in every log message (message, arguments and exception text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string must not drop the record
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
        record.exc_info = None if record.exc_text else record.exc_info
        return True
