"""Staff API tokens (`dd_staff_<43 url-safe characters>`) for the agents' API (desk/api.py).

Kept apart from merchants' tokens (their own table, their own prefix) but under the same rules
(diagnosis/tickets/api_tokens.py): only a SHA-256 hash stored, shown once, expiry after
API_TOKEN_EXPIRY_DAYS, revoked by the owner or when the owner's password changes. The log filter
hides them like every `dd_…` token.
"""

import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from diagnosis.core import audit, permissions
from diagnosis.models import StaffApiToken
from diagnosis.tickets.api_tokens import LAST_USED_RESOLUTION, expiry_days, hash_token

TOKEN_PREFIX = "dd_staff_"
PREFIX_LENGTH = len(TOKEN_PREFIX) + 6


@transaction.atomic
def staff_token_create(*, user, name: str = "") -> tuple[StaffApiToken, str]:
    if not permissions.can_manage_staff_api_tokens(user):
        raise PermissionDenied
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = StaffApiToken(
        user=user,
        name=(name or "").strip()[:60],
        prefix=raw[:PREFIX_LENGTH],
        token_hash=_digest(raw),
        created_at=now,
        expires_at=now + timedelta(days=expiry_days()),
    )
    token.full_clean(exclude=["user"])
    token.save()
    audit.record(actor=user, action="staff_token.create", obj=token)
    return token, raw


@transaction.atomic
def staff_token_revoke(*, token: StaffApiToken, actor) -> StaffApiToken:
    if token.user_id != actor.pk or not permissions.can_manage_staff_api_tokens(actor):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.revoked_reason = "owner"
        token.save(update_fields=["revoked_at", "revoked_reason"])
        audit.record(actor=actor, action="staff_token.revoke", obj=token)
    return token


def _digest(raw: str) -> bytes:
    return bytes.fromhex(hash_token(raw))


def staff_tokens_revoke_all(*, user, reason="password_changed") -> int:
    """Every active staff token of `user` (their password changed) → revoked."""
    return StaffApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason="password" if "password" in reason else "admin"
    )


def staff_tokens_for_user(*, user):
    return list(StaffApiToken.objects.filter(user=user).order_by("-created_at")[:100])


def staff_token_user(raw: str):
    """The active agent a raw staff token belongs to, or None (a merchant token is never one)."""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = timezone.now()
    token = (
        StaffApiToken.objects.select_related("user")
        .filter(token_hash=_digest(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = token.user
    if not permissions.can_use_agent_api(user):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        StaffApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user.api_token = token
    return user
