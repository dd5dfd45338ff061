"""Admin pages of background work: outgoing mail and task results (superusers only).

Both are read-only records of what the workers did; the one thing an admin does here is send a
failed mail, or run a failed task, again (the "send again" / "run again" actions).
"""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from config import tasks
from diagnosis.core import audit
from diagnosis.models import OutgoingMail
from diagnosis.tickets import notifications


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.is_active and request.user.is_superuser


@admin.register(OutgoingMail)
class OutgoingMailAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("created_at", "kind", "to", "ticket", "status", "attempts", "next_attempt_at")
    list_filter = ("status", "kind")
    search_fields = ("to", "subject", "ticket__number")
    date_hierarchy = "created_at"
    list_select_related = ("ticket",)
    readonly_fields = [field.name for field in OutgoingMail._meta.fields]
    actions = ["send_again"]

    @admin.action(description=_("重新发送所选邮件"), permissions=["retry"])
    def send_again(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        count = notifications.send_again(ids)
        audit.record(actor=request.user, action="mail.send_again", count=str(count))
        self.message_user(
            request,
            ngettext("%(count)d 封邮件将重新发送。", "%(count)d 封邮件将重新发送。", count)
            % {"count": count},
            messages.SUCCESS,
        )


admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(SuperuserOnly, DBTaskResultAdmin):
    """django-tasks-db's read-only task list (status, error and traceback), superusers only,
    with a "run again" action for failed tasks."""

    list_display = (*DBTaskResultAdmin.list_display, "short_error")
    actions = ["run_again"]

    @admin.display(description=_("错误"))
    def short_error(self, obj):
        return obj.exception_class_path.rsplit(".", 1)[-1] if obj.exception_class_path else ""

    @admin.action(description=_("重新运行所选的失败任务"), permissions=["retry"])
    def run_again(self, request, queryset):
        count = tasks.retry_failed(queryset.filter(status="FAILED").values_list("pk", flat=True))
        audit.record(actor=request.user, action="task.run_again", count=str(count))
        self.message_user(
            request,
            ngettext("%(count)d 个任务已重新排队。", "%(count)d 个任务已重新排队。", count)
            % {"count": count},
            messages.SUCCESS,
        )
