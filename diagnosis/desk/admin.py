"""Admin of the desk tools: reply macros (admins and lead agents), satisfaction ratings (read)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from diagnosis.core import permissions
from diagnosis.desk.macros import PLACEHOLDERS
from diagnosis.models import Macro, SatisfactionRating


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    list_display = ("name_zh", "name_en", "set_status", "set_priority", "is_active", "usage_count")
    list_filter = ("is_active", "set_status", "set_priority")
    search_fields = ("name_zh", "name_en")
    readonly_fields = ("usage_count", "last_used_at")
    autocomplete_fields = ()
    fieldsets = (
        (None, {"fields": ("name_zh", "name_en", "is_active")}),
        (
            _("回复"),
            {
                "fields": ("body_zh", "body_en"),
                "description": _("可用占位符：") + "、".join(f"{{{key}}}" for key in PLACEHOLDERS),
            },
        ),
        (
            _("同时执行"),
            {"fields": ("set_status", "set_priority", "assign_to_actor", "set_assignee")},
        ),
        (_("使用情况"), {"fields": ("usage_count", "last_used_at")}),
    )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "set_assignee":
            from diagnosis.desk.selectors import desk_agents

            kwargs["queryset"] = desk_agents()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _allowed(self, request):
        return permissions.can_manage_macros(request.user)

    def has_module_permission(self, request):
        return self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request)

    def has_add_permission(self, request):
        return self._allowed(request)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request)

    def has_delete_permission(self, request, obj=None):
        return self._allowed(request)


@admin.register(SatisfactionRating)
class SatisfactionRatingAdmin(admin.ModelAdmin):
    list_display = ("ticket", "score", "source", "agent", "created_at")
    list_filter = ("score", "source")
    list_select_related = ("ticket", "agent")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
