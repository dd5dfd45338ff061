"""Outgoing mail: every notification e-mail is a row, built per recipient in their language.

A row is written by a background task (diagnosis/tickets/notifications.py) and delivered by
one; `key` is unique, so building the same notification twice (a retried task) adds nothing,
and a row is sent at most once: it is locked while it is delivered and marked sent right after
the mail server accepted it. A failed delivery is tried again with back-off; after
MAIL_MAX_ATTEMPTS it stays "failed" with the error, for admins to see and retry.
Card data: subject, body and error are scrubbed fields (diagnosis.core.scrubbed_fields).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import (
    ScrubbedCharField,
    ScrubbedEmailField,
    ScrubbedTextField,
)

__all__ = ["OutgoingMail"]


class OutgoingMail(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    key = models.CharField(_("去重键"), max_length=200, unique=True)
    kind = models.CharField(_("类型"), max_length=40)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("收件人"),
    )
    to = ScrubbedEmailField(_("收件地址"))
    ticket = models.ForeignKey(
        "diagnosis.Ticket",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("工单"),
    )
    subject = ScrubbedCharField(_("主题"), max_length=255)
    body = ScrubbedTextField(_("正文"))
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    last_error = ScrubbedTextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("外发邮件")
        verbose_name_plural = _("外发邮件")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="mail_pending_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["status", "-created_at"], name="mail_status_created"),
        ]

    def __str__(self):
        return f"{self.kind} → {self.to}"
