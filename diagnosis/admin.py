from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from diagnosis import admin_wizard  # noqa: F401  (registers the wizard models)
from diagnosis.forms import AdminLoginForm
from diagnosis.models import AuditEvent, Bank, Merchant, Terminal, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("商户"), {"fields": ("merchant", "language")}))
    list_display = ("username", "email", "merchant", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    list_select_related = ("merchant",)
    autocomplete_fields = ("merchant",)


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "is_acquirer")
    search_fields = ("code", "name_zh", "name_en")


class TerminalInline(admin.TabularInline):
    model = Terminal
    extra = 0


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ("name", "mid", "acquirer", "created_at")
    list_filter = ("acquirer",)
    list_select_related = ("acquirer",)
    search_fields = ("name", "mid")
    inlines = [TerminalInline]


@admin.register(Terminal)
class TerminalAdmin(admin.ModelAdmin):
    list_display = ("tid", "merchant", "model", "location")
    list_select_related = ("merchant",)
    search_fields = ("tid", "merchant__name", "merchant__mid")
    autocomplete_fields = ("merchant",)


# The admin's login is throttled like the site's (diagnosis/throttle.py).
admin.site.login_form = AdminLoginForm


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
