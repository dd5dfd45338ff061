"""The agents' everyday tools: reply macros, links between tickets (related / merged), and the
merchants' satisfaction ratings of resolved tickets.

Card data: every free text (macro names and bodies, rating comments) is a scrubbed field.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import ScrubbedCharField, ScrubbedTextField
from diagnosis.models.tickets import Ticket

__all__ = ["Macro", "SatisfactionRating", "TicketLink"]


class Macro(models.Model):
    """A named reply template (both languages) that may also set status, priority, assignee.

    Placeholders in the bodies: see diagnosis.desk.macros.PLACEHOLDERS.
    """

    name_zh = ScrubbedCharField(_("中文名称"), max_length=80)
    name_en = ScrubbedCharField(_("英文名称"), max_length=80)
    body_zh = ScrubbedTextField(_("中文回复"), blank=True, max_length=4000)
    body_en = ScrubbedTextField(_("英文回复"), blank=True, max_length=4000)
    # A choice, scrubbed anyway: the card-data allow-list of plain text columns is full
    # (tests/security/test_model_fields_scrub.py), and scrubbing a status name changes nothing.
    set_status = ScrubbedCharField(
        _("同时改状态为"), max_length=20, choices=Ticket.Status.choices, blank=True
    )
    set_priority = models.CharField(
        _("同时改优先级为"), max_length=8, choices=Ticket.Priority.choices, blank=True
    )
    assign_to_actor = models.BooleanField(_("同时指派给使用者"), default=False)
    set_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("同时指派给"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    usage_count = models.PositiveIntegerField(_("使用次数"), default=0, editable=False)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["name_zh", "pk"]
        verbose_name = _("回复模板")
        verbose_name_plural = _("回复模板")

    def __str__(self):
        return self.name_zh

    def clean(self):
        from diagnosis.desk.macros import check_placeholders

        check_placeholders(self)

    @property
    def name(self):
        from django.utils.translation import get_language

        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    @property
    def has_actions(self) -> bool:
        return bool(
            self.set_status or self.set_priority or self.assign_to_actor or self.set_assignee_id
        )


class TicketLink(models.Model):
    """`source` is related to `target`, or (kind "merged") `source` was merged into `target`."""

    class Kind(models.TextChoices):
        RELATED = "related", _("相关")
        MERGED = "merged", _("已合并")

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="links_in")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["target", "kind"], name="ticketlink_target")]
        constraints = [
            models.UniqueConstraint(fields=["source", "target"], name="one_link_per_pair"),
            models.UniqueConstraint(
                fields=["source"],
                condition=models.Q(kind="merged"),
                name="merged_once",
            ),
        ]

    def __str__(self):
        return f"{self.source_id} {self.kind} {self.target_id}"


class SatisfactionRating(models.Model):
    """The merchant's rating of a resolved ticket (one per ticket: the e-mail link is single use).

    The agent, category and bank are kept as they were when the ticket was rated.
    """

    class Source(models.TextChoices):
        PAGE = "page", _("工单页面")
        EMAIL = "email", _("邮件链接")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="rating")
    score = models.PositiveSmallIntegerField(
        _("评分"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = ScrubbedTextField(_("意见（可选）"), blank=True, max_length=1000)
    source = models.CharField(max_length=6, choices=Source.choices)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="satisfaction_ratings",
    )
    category = models.ForeignKey(
        "knowledge.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    acquirer = models.ForeignKey(
        "diagnosis.Bank", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("满意度评分")
        verbose_name_plural = _("满意度评分")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__gte=1, score__lte=5), name="rating_score_1_5"
            )
        ]

    def __str__(self):
        return f"{self.ticket_id}: {self.score}"
