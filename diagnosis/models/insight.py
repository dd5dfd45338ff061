"""Decline insight: incidents (many merchants of one acquirer failing at once).

An incident is opened by diagnosis.insight.detection when tickets in the `issuer_system` or
`network` categories come from at least INCIDENT_MIN_MERCHANTS distinct merchants of one acquirer
within INCIDENT_WINDOW_MINUTES. At most one *active* (open or confirmed) incident exists per
acquirer — a partial unique constraint guards it even when two detections race.

The Insight* rollup tables below hold the dashboard's daily aggregates (diagnosis.insight.rollups
maintains and rebuilds them; diagnosis.insight.aggregates reads them).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import ScrubbedCharField

__all__ = [
    "Incident",
    "InsightDurationRollup",
    "InsightDurationValue",
    "InsightRollupState",
    "InsightTicketRollup",
    "InsightWizardDay",
    "RollupPeriod",
]


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


# --- dashboard rollups (diagnosis.insight.rollups) ------------------------------------------------
#
# No unique keys on purpose: every count is additive, so two rows with the same key (a rare race
# of two first inserts) just sum, and a key column can be rewritten in place (a deleted category
# becomes NULL). Readers always SUM and drop groups that sum to 0. The acquirer and category
# columns are foreign keys only for joins (names): no database constraint, no cascade.


def _rollup_fk(to, **kwargs):
    return models.ForeignKey(
        to,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        **kwargs,
    )


class RollupPeriod(models.TextChoices):
    DAY = "d", "day"
    MONTH = "m", "month"  # `day` is the first day of the month


class InsightTicketRollup(models.Model):
    """Tickets per local day (of `created_at`) — and again per month — × acquirer × response
    code × category × terminal model (the terminal's model, "" without a terminal)."""

    period = models.CharField(max_length=1, choices=RollupPeriod.choices)
    day = models.DateField()
    acquirer = _rollup_fk("diagnosis.Bank")
    response_code = models.CharField(max_length=2, blank=True)
    category = _rollup_fk("knowledge.Category", null=True, blank=True)
    terminal_model = ScrubbedCharField(max_length=60, blank=True)
    tickets = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["period", "day", "acquirer", "tickets"], name="insight_tickets_day"
            ),
            models.Index(fields=["acquirer", "period", "day"], name="insight_tickets_acq"),
        ]

    def __str__(self):
        return f"{self.period}{self.day} {self.acquirer_id} {self.response_code}: {self.tickets}"


class InsightDurationRollup(models.Model):
    """Time to first response / to resolution per local day of the ticket's creation — and
    again per month — × acquirer × kind × histogram bucket (diagnosis.insight.rollups.bucket_of):
    count and sum in whole milliseconds."""

    period = models.CharField(max_length=1, choices=RollupPeriod.choices)
    day = models.DateField()
    acquirer = _rollup_fk("diagnosis.Bank")
    kind = models.CharField(max_length=16)
    bucket = models.SmallIntegerField()
    tickets = models.IntegerField(default=0)
    total_ms = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["period", "day", "acquirer"], name="insight_durations_day"),
            models.Index(fields=["acquirer", "period", "day"], name="insight_durations_acq"),
        ]

    def __str__(self):
        return f"{self.period}{self.day} {self.acquirer_id} {self.kind}#{self.bucket}"


class InsightDurationValue(models.Model):
    """The exact durations (whole ms) behind each histogram bucket per local day, counted: the
    median and the 90th percentile are read from the one bucket holding each (covering index)."""

    kind = models.CharField(max_length=16)
    bucket = models.SmallIntegerField()
    day = models.DateField()
    acquirer = _rollup_fk("diagnosis.Bank")
    ms = models.BigIntegerField()
    tickets = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(
                fields=["kind", "bucket", "day", "acquirer", "ms", "tickets"],
                name="insight_duration_values",
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.acquirer_id} {self.kind} {self.ms} ms: {self.tickets}"


class InsightWizardDay(models.Model):
    """Wizard runs per local day × outcome: reached, answered "solved" yes / no."""

    day = models.DateField()
    outcome = models.CharField(max_length=40)
    reached = models.IntegerField(default=0)
    yes = models.IntegerField(default=0)
    no = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day", "outcome"], name="insight_wizard_day")]

    def __str__(self):
        return f"{self.day} {self.outcome}: {self.reached}"


class InsightRollupState(models.Model):
    """One row (pk=1) once `rollup_insight --rebuild` has built the rollups: the dashboard reads
    them only then, and only in the time zone they were built in."""

    time_zone = models.CharField(max_length=64)
    built_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.time_zone} {self.built_at:%Y-%m-%d %H:%M}"
