"""Format validators for the domain's numbers (PRODUCT.md): MID, TID, response code, RRN,
trace and batch numbers. Used by the models, the forms and the API alike."""

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
