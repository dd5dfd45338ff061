"""The audit trail: what agents and editors did, append-only.

Rows are only ever inserted (diagnosis/core/audit.py writes them). Saving an existing row, deleting
one, or bulk update/delete raise; the admin shows them read-only to superusers only, with no
add, change or delete permission for anyone. The actor is referenced without a database
constraint (and their name copied), so deleting a user never has to touch the trail.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import ScrubbedCharField, ScrubbedJSONField

__all__ = ["AuditEvent", "AuditLogIsAppendOnly"]


class AuditLogIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be changed")

    def delete(self):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")

    _raw_delete = delete


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_name = ScrubbedCharField(_("操作人账号"), max_length=150, blank=True)
    role = models.CharField(_("角色"), max_length=20, blank=True)
    action = models.CharField(_("操作"), max_length=40, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = ScrubbedCharField(_("对象"), max_length=200, blank=True)
    details = ScrubbedJSONField(_("详情"), default=dict, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly("audit events cannot be changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly("audit events cannot be deleted")
