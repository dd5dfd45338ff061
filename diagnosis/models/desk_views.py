"""The agents' desk: saved queue views and staff API tokens."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from diagnosis.core.scrubbed_fields import ScrubbedCharField

__all__ = ["SavedView", "StaffApiToken"]


class SavedView(models.Model):
    """A named queue filter (the queue's query string), the owner's own or shared with every
    agent. The query is re-validated by the queue's filter form each time it is used."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = ScrubbedCharField(_("名称"), max_length=60)
    query = ScrubbedCharField(_("筛选条件"), max_length=500, blank=True)
    shared = models.BooleanField(_("共享给所有支持专员"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["shared", "name"], name="savedview_shared_name")]

    def __str__(self):
        return self.name


class StaffApiToken(models.Model):
    """An agent's API token (`dds_…`), separate from merchants' `ApiToken`: same rules — only a
    SHA-256 hash stored, shown once, expires after API_TOKEN_EXPIRY_DAYS, revoked by its owner
    or when the owner's password changes — but accepted only by the agents' API."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_api_tokens"
    )
    name = ScrubbedCharField(_("名称"), max_length=60, blank=True)
    prefix = ScrubbedCharField(max_length=20)  # "dd_staff_" + 6 random characters
    token_hash = models.BinaryField(max_length=32, unique=True)  # SHA-256 digest
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=12, blank=True, default="")  # owner, password

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.prefix}…"

    @property
    def is_active(self) -> bool:
        expired = self.expires_at is not None and self.expires_at <= timezone.now()
        return self.revoked_at is None and not expired
