"""Escalation templates (the file format a bank wants) and the merchant replies generated from a
bank's answer. Both are data edited in the Django admin: a new bank with its own format is
configured, not programmed.

A template lists the batch file's columns in order (keys of
`diagnosis.escalations.exports.COLUMNS`, each with an optional header of the bank's own), the
language of the default headers, the amount unit (yuan or fen), the date format and the file
type the mail attaches (CSV in UTF-8 or GBK, or XLSX). Three templates are installed by
migration 0018: ours (the default), one in fen as a GBK CSV, one in English with
`YYYYMMDD HHMMSS` dates.
"""

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import models
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import (
    ScrubbedCharField,
    ScrubbedJSONField,
    ScrubbedTextField,
)

__all__ = ["BankOutcomeReply", "EscalationTemplate"]

DEFAULT_TEMPLATE_CODE = "declinedesk"


class EscalationTemplate(models.Model):
    class FileFormat(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class HeaderLanguage(models.TextChoices):
        AGENT = "", _("跟随操作人的语言")
        ZH = "zh-hans", _("中文")
        EN = "en", _("英文")

    class AmountUnit(models.TextChoices):
        YUAN = "yuan", _("元（两位小数）")
        FEN = "fen", _("分（整数）")

    class Encoding(models.TextChoices):
        UTF8 = "utf-8-sig", _("UTF-8（带 BOM）")
        GBK = "gbk", "GBK"

    code = ScrubbedCharField(_("代码"), max_length=40, unique=True, validators=[validate_slug])
    name = ScrubbedCharField(_("模板名称"), max_length=100)
    file_format = models.CharField(
        _("邮件附件格式"), max_length=4, choices=FileFormat.choices, default=FileFormat.XLSX
    )
    header_language = models.CharField(
        _("表头语言"), max_length=8, choices=HeaderLanguage.choices, blank=True, default=""
    )
    columns = ScrubbedJSONField(
        _("列"),
        help_text=_(
            '按顺序列出列，例如 ["ticket_number", {"key": "amount", "header": "金额（分）"}]；'
            "可用的键见 diagnosis/escalations/exports.py 的 COLUMNS。"
        ),
    )
    amount_unit = models.CharField(
        _("金额单位"), max_length=4, choices=AmountUnit.choices, default=AmountUnit.YUAN
    )
    datetime_format = ScrubbedCharField(
        _("时间格式"),
        max_length=40,
        default="%Y-%m-%d %H:%M:%S",
        help_text=_("Python strftime 格式，例如 %Y%m%d %H%M%S"),
    )
    csv_encoding = models.CharField(
        _("CSV 编码"), max_length=10, choices=Encoding.choices, default=Encoding.UTF8
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("升级文件模板")
        verbose_name_plural = _("升级文件模板")

    def __str__(self):
        return self.name

    def clean(self):
        from diagnosis.escalations.exports import template_column_errors

        errors = template_column_errors(self.columns)
        if errors:
            raise ValidationError({"columns": errors})
        try:
            from datetime import datetime

            datetime(2026, 1, 2, 3, 4, 5).strftime(self.datetime_format)
        except ValueError as error:
            raise ValidationError({"datetime_format": str(error)}) from error

    @classmethod
    def for_bank(cls, bank):
        """The bank's template, else ours (also when the database has none: a built-in copy)."""
        if bank is not None and bank.escalation_template_id:
            return bank.escalation_template
        found = cls.objects.filter(code=DEFAULT_TEMPLATE_CODE).first()
        if found is not None:
            return found
        from diagnosis.escalations.exports import DEFAULT_TEMPLATE

        return cls(**DEFAULT_TEMPLATE)


class BankOutcomeReply(models.Model):
    """The public reply a merchant gets when the bank's answer has this outcome (both languages).
    `{bank}`, `{reference}` and `{ticket}` are filled in."""

    outcome = models.CharField(_("银行处理结果"), max_length=12, unique=True)
    body_zh = ScrubbedTextField(_("中文回复"), max_length=4000)
    body_en = ScrubbedTextField(_("英文回复"), max_length=4000)

    class Meta:
        ordering = ["outcome"]
        verbose_name = _("银行答复模板")
        verbose_name_plural = _("银行答复模板")

    def __str__(self):
        return self.outcome
