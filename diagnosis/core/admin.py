"""Shared admin pieces: the read-only mixin, and the audit trail's page (superusers only)."""

from django.contrib import admin

from diagnosis.models import AuditEvent


class ReadOnlyAdminMixin:
    """Rows nobody adds or changes by hand in the admin (published wizard versions, wizard runs,
    article revisions and votes, the audit trail), for model admins and inlines alike.

    `delete_permission`: "nobody"; "superusers"; or "usual" (the other classes' rules).
    """

    delete_permission = "nobody"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if self.delete_permission == "usual":
            return super().has_delete_permission(request, obj)
        return self.delete_permission == "superusers" and request.user.is_superuser


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The audit trail: read-only, for superusers only; nobody may add, change or delete."""

    list_display = ("created_at", "actor_name", "role", "action", "object_type", "object_repr")
    list_filter = ("action", "role")
    search_fields = ("actor_name", "object_id", "object_repr")
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
    actions = None

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
