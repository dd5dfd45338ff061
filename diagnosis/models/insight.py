"""Decline insight: incidents (many merchants of one acquirer failing at once).

An incident is opened by diagnosis.insight.detection when tickets in the `issuer_system` or
`network` categories come from at least INCIDENT_MIN_MERCHANTS distinct merchants of one acquirer
within INCIDENT_WINDOW_MINUTES. At most one *active* (open or confirmed) incident exists per
acquirer — a partial unique constraint guards it even when two detections race.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["Incident"]


class IncidentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Incident.ACTIVE_STATUSES)


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        DISMISSED = "dismissed", _("误报已忽略")
        RESOLVED = "resolved", _("已恢复")

    ACTIVE_STATUSES = ("open", "confirmed")

    acquirer = models.ForeignKey(
        "diagnosis.Bank",
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("收单行"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(_("开始时间"))
    detected_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    last_ticket_at = models.DateTimeField(_("最近工单时间"))
    merchant_count = models.PositiveIntegerField(_("涉及商户数"), default=0)
    tickets = models.ManyToManyField(
        "diagnosis.Ticket", related_name="incidents", blank=True, verbose_name=_("关联工单")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("最近处理人"),
    )
    changed_at = models.DateTimeField(_("最近处理时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        verbose_name = _("故障事件")
        verbose_name_plural = _("故障事件")
        indexes = [
            models.Index(fields=["status", "-started_at"], name="incident_status_started"),
            models.Index(fields=["acquirer", "status"], name="incident_acquirer_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["acquirer"],
                condition=Q(status__in=["open", "confirmed"]),
                name="one_active_incident_per_acquirer",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.acquirer_id} {self.started_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("diagnosis:incident_detail", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES
