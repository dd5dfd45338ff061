"""Who works with tickets: banks (acquirers and issuers), merchants (MID) with their terminals
(TID), and users. A user belongs to at most one merchant; roles are groups
(diagnosis/core/roles.py) and every decision about them is in diagnosis/core/permissions.py.
"""

import datetime
import re
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import (
    ScrubbedCharField,
    ScrubbedEmailField,
    ScrubbedTextField,
)
from diagnosis.core.validators import mid_validator, tid_validator


def email_addresses(text: str) -> list[str]:
    """Addresses of a comma/semicolon/newline separated list (blanks dropped)."""
    return [part.strip() for part in re.split(r"[,;，；\s]+", text or "") if part.strip()]


def email_list_validator(text):
    for address in email_addresses(text):
        try:
            validate_email(address)
        except ValidationError as error:
            raise ValidationError(
                _("“%(address)s”不是有效的邮箱地址。"), params={"address": address}
            ) from error


def time_zone_validator(name):
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError(_("未知时区：%(name)s"), params={"name": name}) from error


class Bank(models.Model):
    """An acquirer (收单行), an issuer (发卡行) or a card-network switch (转接网络, e.g.
    UnionPay's): escalations and announcements name one; the status page lists acquirers and
    networks."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name_zh = ScrubbedCharField(_("中文名称"), max_length=100)
    name_en = ScrubbedCharField(_("英文名称"), max_length=100)
    is_acquirer = models.BooleanField(_("是收单机构"), default=True)
    is_network = models.BooleanField(
        _("是卡组织转接网络"),
        default=False,
        help_text=_("如银联、Visa、Mastercard 的转接网络：银行状态页单独列出。"),
    )
    escalation_email = ScrubbedEmailField(_("升级联系邮箱"), blank=True)
    # What escalation needs (issue 17): who gets the batch file, in which format, when the bank
    # works, and what agents should know. Read on the batch page, edited in the admin.
    escalation_cc = ScrubbedTextField(
        _("升级抄送邮箱"),
        blank=True,
        max_length=1000,
        help_text=_("多个地址用逗号、分号或换行分隔。"),
        validators=[email_list_validator],
    )
    escalation_template = models.ForeignKey(
        "diagnosis.EscalationTemplate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="banks",
        verbose_name=_("升级文件模板"),
        help_text=_("留空时使用 DeclineDesk 默认格式。"),
    )
    work_start = models.TimeField(_("上班时间"), default=datetime.time(9, 0))
    work_end = models.TimeField(_("下班时间"), default=datetime.time(17, 30))
    time_zone = ScrubbedCharField(
        _("时区"), max_length=40, default="Asia/Shanghai", validators=[time_zone_validator]
    )
    agent_notes = ScrubbedTextField(_("给客服的备注"), blank=True, max_length=4000)

    class Meta:
        ordering = ["code"]
        verbose_name = _("银行")
        verbose_name_plural = _("银行")

    def __str__(self):
        return self.name

    @property
    def name(self):
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def escalation_cc_list(self) -> list[str]:
        return email_addresses(self.escalation_cc)

    @property
    def zone(self):
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("Asia/Shanghai")


class Merchant(models.Model):
    name = ScrubbedCharField(_("商户名称"), max_length=120)
    mid = models.CharField(
        _("商户号（MID）"), max_length=15, unique=True, validators=[mid_validator]
    )
    acquirer = models.ForeignKey(
        Bank, on_delete=models.PROTECT, related_name="merchants", verbose_name=_("收单行")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("商户")
        verbose_name_plural = _("商户")

    def __str__(self):
        return f"{self.name} ({self.mid})"


class Terminal(models.Model):
    tid = models.CharField(
        _("终端号（TID）"), max_length=8, unique=True, validators=[tid_validator]
    )
    merchant = models.ForeignKey(
        Merchant, on_delete=models.CASCADE, related_name="terminals", verbose_name=_("商户")
    )
    model = ScrubbedCharField(_("终端型号"), max_length=60, blank=True)
    location = ScrubbedCharField(_("安装位置"), max_length=120, blank=True)

    class Meta:
        ordering = ["tid"]
        verbose_name = _("终端")
        verbose_name_plural = _("终端")

    def __str__(self):
        return self.tid


class User(AbstractUser):
    """A DeclineDesk account. Merchant users belong to exactly one merchant; staff to none.

    The name fields are AbstractUser's, with card numbers scrubbed at the storage boundary.
    Changing the password revokes the user's API tokens (save()).
    """

    username = ScrubbedCharField(
        _("username"),
        max_length=150,
        unique=True,
        help_text=_("Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only."),
        validators=[UnicodeUsernameValidator()],
        error_messages={"unique": _("A user with that username already exists.")},
    )
    first_name = ScrubbedCharField(_("first name"), max_length=150, blank=True)
    last_name = ScrubbedCharField(_("last name"), max_length=150, blank=True)
    email = ScrubbedEmailField(_("email address"), blank=True)

    merchant = models.ForeignKey(
        Merchant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("所属商户"),
    )
    language = models.CharField(
        _("邮件语言"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("工单通知邮件使用的语言。"),
    )
    incident_mail = models.BooleanField(
        _("收单行故障通知"),
        default=True,
        help_text=_("收单行出现故障和恢复时发邮件通知（每次故障各一封）。"),
    )
    daily_digest = models.BooleanField(
        _("每日摘要邮件"),
        default=False,
        help_text=_(
            "支持专员：每个工作日早上收到一封摘要（待处理、已超时、故障事件、等待银行答复的批次）。"
        ),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def save(self, *args, **kwargs):
        password_changed = self._password is not None  # set_password() was called
        super().save(*args, **kwargs)
        if password_changed:
            from diagnosis.tickets.api_tokens import api_tokens_revoke_all

            api_tokens_revoke_all(user=self, reason="password_changed")
