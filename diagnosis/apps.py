"""The diagnosis app: at start-up it wires the role permissions, the audit trail, the insight
rollups, card scrubbing of third-party models, two-factor hooks and metrics."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class DiagnosisConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "diagnosis"
    verbose_name = _("商户、终端与工单")

    def ready(self):
        from diagnosis.core import roles

        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="declinedesk_roles")

        from diagnosis.core import audit

        audit.connect()

        from diagnosis.insight import rollups

        rollups.connect()

        from diagnosis.desk import live

        live.connect()

        from diagnosis.core import scrubbed_fields

        scrubbed_fields.connect_third_party()

        from django.contrib.auth.signals import user_logged_in

        from diagnosis.accounts import two_factor

        user_logged_in.connect(two_factor.remember_no_device, dispatch_uid="dd_2fa_no_device")
        from config import metrics

        metrics.connect()
