"""Format validators for the domain's numbers (PRODUCT.md): MID, TID, response code, RRN,
trace and batch numbers. Used by the models, the forms and the API alike."""

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

mid_validator = RegexValidator(r"^\d{15}$", _("商户号（MID）是 15 位数字。"), code="invalid_mid")
tid_validator = RegexValidator(
    r"^[0-9A-Za-z]{8}$", _("终端号（TID）是 8 位数字或字母。"), code="invalid_tid"
)
response_code_validator = RegexValidator(
    r"^[0-9A-Za-z]{2}$", _("应答码是 2 位数字或字母，例如 51 或 A0。"), code="invalid_code"
)
rrn_validator = RegexValidator(
    r"^[0-9A-Za-z]{12}$", _("参考号（RRN）是 12 位数字或字母。"), code="invalid_rrn"
)
six_digits_validator = RegexValidator(r"^\d{6}$", _("请填写 6 位数字。"), code="invalid_six")

# Dates anyone may type (filters, transaction times) stay inside this range: the edges of the
# calendar (0001-01-01, 9999-12-31) would overflow date arithmetic and the databases.
EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2099, 12, 31)


def validate_filter_date(value):
    if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            _("日期要在 %(start)s 到 %(end)s 之间。"),
            code="date_range",
            params={"start": EARLIEST_DATE.isoformat(), "end": LATEST_DATE.isoformat()},
        )


def validate_transaction_time(value):
    """Not before 2000 (the future is checked against the clock by the ticket service)."""
    if value is not None and value.date() < EARLIEST_DATE:
        raise ValidationError(
            _("交易时间太早：请填写 %(start)s 以后的日期。"),
            code="too_early",
            params={"start": EARLIEST_DATE.isoformat()},
        )
