"""Admin pages for users, banks, merchants and terminals. The admin signs in through the site's
login (throttled, with the second factor staff must pass)."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from diagnosis.accounts import two_factor
from diagnosis.models import (
    Bank,
    BankOutcomeReply,
    EscalationTemplate,
    Merchant,
    Terminal,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, (_("商户"), {"fields": ("merchant", "language")}))
    list_display = ("username", "email", "merchant", "is_staff", "is_active")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    list_select_related = ("merchant",)
    autocomplete_fields = ("merchant",)


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name_zh",
        "name_en",
        "is_acquirer",
        "is_network",
        "escalation_template",
    )
    list_select_related = ("escalation_template",)
    search_fields = ("code", "name_zh", "name_en")
    fieldsets = (
        (None, {"fields": ("code", "name_zh", "name_en", "is_acquirer", "is_network")}),
        (
            _("升级到银行"),
            {
                "fields": (
                    "escalation_email",
                    "escalation_cc",
                    "escalation_template",
                    ("work_start", "work_end", "time_zone"),
                    "agent_notes",
                )
            },
        ),
    )


@admin.register(EscalationTemplate)
class EscalationTemplateAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "file_format", "header_language", "amount_unit")
    search_fields = ("code", "name")


@admin.register(BankOutcomeReply)
class BankOutcomeReplyAdmin(admin.ModelAdmin):
    list_display = ("outcome", "body_zh")


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


def admin_login(request, extra_context=None):
    """/admin/login/ is the site's login: password (throttled), then the second factor."""
    next_url = request.GET.get(REDIRECT_FIELD_NAME) or request.POST.get(REDIRECT_FIELD_NAME)
    return redirect_to_login(next_url or "/admin/")


_has_permission = admin.site.has_permission


def admin_has_permission(request):
    """Staff only, and only after the second factor (the gate middleware redirects first)."""
    return _has_permission(request) and two_factor.is_verified(request)


admin.site.login = admin_login
admin.site.has_permission = admin_has_permission


# Second-factor devices are managed on the account pages and reset with
# `manage.py reset_two_factor`; their admin pages would show authenticator secrets.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
