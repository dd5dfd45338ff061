"""Admin pages for users, banks, merchants and terminals; the admin login is throttled."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from diagnosis.accounts.forms import AdminLoginForm
from diagnosis.models import Bank, Merchant, Terminal, User


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


# The admin's login is throttled like the site's (diagnosis/accounts/throttle.py).
admin.site.login_form = AdminLoginForm
