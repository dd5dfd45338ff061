"""Ticket models: declined transactions recorded by merchants, their timeline, escalations.

Card data: `card_masked` only ever holds last 4 or first 6 + last 4 (diagnosis.core.cards); free
text (description, event bodies, file names) is scrubbed by the services before it is saved.
"""

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import ScrubbedCharField, ScrubbedTextField

__all__ = [
    "ApiToken",
    "Attachment",
    "BankOutcome",
    "EscalationBatch",
    "EscalationItem",
    "Ticket",
    "TicketCounter",
    "TicketEvent",
]


class TicketCounter(models.Model):
    """Per-year sequence for readable ticket numbers (row-locked while a number is taken)."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last}"


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("新建")
        IN_PROGRESS = "in_progress", _("处理中")
        WAITING_MERCHANT = "waiting_merchant", _("等待商户回复")
        ESCALATED = "escalated", _("已提交银行")
        RESOLVED = "resolved", _("已解决")
        CLOSED = "closed", _("已关闭")

    class Priority(models.TextChoices):
        LOW = "low", _("低")
        NORMAL = "normal", _("普通")
        HIGH = "high", _("高")
        URGENT = "urgent", _("紧急")

    class CardType(models.TextChoices):
        DEBIT = "debit", _("借记卡")
        CREDIT = "credit", _("信用卡")
        UNKNOWN = "unknown", _("不确定")

    number = models.CharField(_("工单号"), max_length=20, unique=True, editable=False)
    merchant = models.ForeignKey(
        "diagnosis.Merchant",
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_merchant_created starts with it
        verbose_name=_("商户"),
    )
    acquirer = models.ForeignKey(
        "diagnosis.Bank",
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_acq_status starts with it
        verbose_name=_("收单行"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets_created",
        verbose_name=_("提交人"),
    )
    terminal = models.ForeignKey(
        "diagnosis.Terminal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        verbose_name=_("终端"),
    )
    tid = models.CharField(_("终端号（TID）"), max_length=8)
    transaction_time = models.DateTimeField(_("交易时间"))
    amount = models.DecimalField(_("金额"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    card_masked = ScrubbedCharField(_("卡号（已遮蔽）"), max_length=19, blank=True)
    card_type = models.CharField(
        _("卡类型"), max_length=8, choices=CardType.choices, default=CardType.UNKNOWN
    )
    response_code = models.CharField(_("应答码"), max_length=2, blank=True)
    category = models.ForeignKey(
        "knowledge.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # filtered by category: read in created_at order (ticket_created)
        verbose_name=_("分类"),
    )
    rrn = models.CharField(_("参考号（RRN）"), max_length=12, blank=True)
    trace_number = models.CharField(_("凭证号"), max_length=6, blank=True)
    batch_number = models.CharField(_("批次号"), max_length=6, blank=True)
    description = ScrubbedTextField(_("情况说明"), blank=True, max_length=4000)
    wizard_summary = ScrubbedTextField(_("排查向导记录"), blank=True, max_length=4000)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.NEW)
    priority = models.CharField(
        _("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets_assigned",
        db_index=False,  # ticket_assignee_created starts with it
        verbose_name=_("处理人"),
    )
    first_response_due = models.DateTimeField(_("首次回复期限"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("首次回复时间"), null=True, blank=True)
    # The earliest running SLA deadline (diagnosis/tickets/sla_clock.py); NULL while paused/done.
    sla_due_at = models.DateTimeField(_("SLA 期限"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # Desk: sortable priority (urgent first), computed by the database so it never goes stale.
    priority_rank = models.GeneratedField(
        expression=models.Case(
            models.When(priority="urgent", then=models.Value(0)),
            models.When(priority="high", then=models.Value(1)),
            models.When(priority="normal", then=models.Value(2)),
            default=models.Value(3),
        ),
        output_field=models.SmallIntegerField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        # Each index costs every insert: `make bench` (bench/indexes.py) shows the query that
        # uses each one. The FK columns merchant, acquirer and assignee have no index of their
        # own (the composite indexes below start with them); category has none at all: every
        # category holds a few percent of the tickets, found as fast in created_at order.
        indexes = [
            models.Index(fields=["merchant", "-created_at"], name="ticket_merchant_created"),
            models.Index(
                fields=["merchant", "status", "-created_at"], name="ticket_merchant_status"
            ),
            models.Index(fields=["status", "-created_at"], name="ticket_status_created"),
            models.Index(fields=["acquirer", "status", "-created_at"], name="ticket_acq_status"),
            models.Index(fields=["response_code", "-created_at"], name="ticket_code_created"),
            models.Index(fields=["tid", "rrn"], name="ticket_tid_rrn"),
            models.Index(fields=["status", "first_response_due"], name="ticket_status_due"),
            models.Index(fields=["-created_at"], name="ticket_created"),
            models.Index(fields=["transaction_time"], name="ticket_txn_time"),
            # Desk queue (filters without a status, sorting by due time or priority, overdue).
            models.Index(fields=["assignee", "-created_at"], name="ticket_assignee_created"),
            models.Index(fields=["first_response_due", "id"], name="ticket_due"),
            models.Index(fields=["priority_rank", "-created_at"], name="ticket_priority_created"),
            models.Index(fields=["rrn"], name="ticket_rrn"),
            models.Index(fields=["sla_due_at", "id"], name="ticket_sla_due"),
            models.Index(
                fields=["-created_at", "-id"],
                name="ticket_open_created",
                condition=models.Q(
                    status__in=["new", "in_progress", "waiting_merchant", "escalated"]
                ),
            ),
            models.Index(
                fields=["first_response_due"],
                name="ticket_awaiting_first_reply",
                condition=models.Q(first_responded_at__isnull=True),
            ),
            # Auto-close (diagnosis/tickets/jobs.py): only resolved tickets are in it, so new
            # tickets cost it nothing.
            models.Index(
                fields=["resolved_at"],
                name="ticket_resolved_at",
                condition=models.Q(status="resolved"),
            ),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("diagnosis:ticket_detail", args=[self.number])


class TicketEvent(models.Model):
    """One entry of a ticket's timeline and history: who changed what, and when."""

    class Kind(models.TextChoices):
        CREATED = "created", _("创建")
        REPLY = "reply", _("回复")
        NOTE = "note", _("内部备注")
        STATUS = "status", _("状态变更")
        ASSIGN = "assign", _("指派")
        PRIORITY = "priority", _("优先级变更")
        ESCALATED = "escalated", _("提交银行")
        ATTACHMENT = "attachment", _("附件")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    is_internal = models.BooleanField(default=False)
    body = ScrubbedTextField(blank=True, max_length=4000)
    old_value = ScrubbedCharField(max_length=64, blank=True)
    new_value = ScrubbedCharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created")]

    def __str__(self):
        return f"{self.ticket_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


def attachment_path(instance, filename):
    # A random, unguessable name; the original name is kept (scrubbed) in `original_name`.
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = ScrubbedCharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.original_name


class ApiToken(models.Model):
    """A merchant user's API token: only a SHA-256 hash is stored; the token is shown once.

    It stops working when it expires (API_TOKEN_EXPIRY_DAYS after creation), when its owner
    revokes it, and when the owner's password changes (diagnosis.models.User.save()).
    """

    class RevokedReason(models.TextChoices):
        OWNER = "owner", _("已手动停用")
        PASSWORD_CHANGED = "password_changed", _("修改密码后自动停用")
        ADMIN = "admin", _("管理员停用")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = ScrubbedCharField(_("名称"), max_length=60, blank=True)
    prefix = models.CharField(max_length=12, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(
        max_length=20, choices=RevokedReason.choices, blank=True, default=""
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}…"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class SendState(models.TextChoices):
    NONE = "", _("未发送邮件")
    QUEUED = "queued", _("正在发送")
    FAILED = "failed", _("发送失败")


class BankOutcome(models.TextChoices):
    """What the bank answered for one ticket (issue 17's vocabulary)."""

    REFUNDED = "refunded", _("已退款/已冲正")
    CHARGE_STANDS = "stands", _("交易有效（持卡人原因）")
    MERCHANT_ACTS = "merchant", _("需商户处理")
    MORE_INFO = "more_info", _("需补充材料")
    REJECTED = "rejected", _("银行拒绝受理")


class EscalationBatch(models.Model):
    """Tickets of one acquirer sent to that bank together."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SENT = "sent", _("已发送")
        ANSWERED = "answered", _("银行已答复")
        CLOSED = "closed", _("已关闭")

    number = models.CharField(_("批次号"), max_length=20, unique=True)
    acquirer = models.ForeignKey(
        "diagnosis.Bank", on_delete=models.PROTECT, related_name="escalations"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    note = ScrubbedTextField(blank=True, max_length=4000)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Sending by mail from the desk (diagnosis/escalations/sending.py): "queued" while the task
    # has it, "failed" with the reason when the mail server refused; the Message-ID of the
    # last mail that went out.
    send_state = models.CharField(max_length=8, choices=SendState.choices, blank=True)
    send_error = ScrubbedTextField(blank=True, max_length=2000)
    message_id = ScrubbedCharField(max_length=255, blank=True)
    mail_count = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return self.number


class EscalationItem(models.Model):
    batch = models.ForeignKey(EscalationBatch, on_delete=models.CASCADE, related_name="items")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalation_items")
    bank_reference = ScrubbedCharField(_("银行受理号"), max_length=60, blank=True)
    outcome = models.CharField(
        _("银行处理结果"), max_length=12, choices=BankOutcome.choices, blank=True
    )
    answered_at = models.DateTimeField(_("银行答复时间"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "ticket"], name="one_ticket_per_batch")
        ]

    def __str__(self):
        return f"{self.batch_id}/{self.ticket_id}"
