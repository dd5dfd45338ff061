"""API tokens of merchant users: created, shown once, stored as a SHA-256 hash, revocable.

A token looks like `dd_<43 url-safe characters>` (256 bits of randomness). Only its hash and a
display prefix (`dd_` + 8 characters) are stored; a lost token is revoked and replaced.
"""

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from diagnosis.core import permissions
from diagnosis.models import ApiToken

TOKEN_PREFIX = "dd_"
PREFIX_LENGTH = 11  # "dd_" + 8 characters shown in lists
LAST_USED_RESOLUTION = timedelta(minutes=5)  # write last_used_at at most this often


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new token for merchant user `user`; returns (stored token, the raw token to show once)."""
    if not permissions.can_manage_api_tokens(user):
        raise PermissionDenied
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=(name or "").strip()[:60],
        prefix=raw[:PREFIX_LENGTH],
        token_hash=hash_token(raw),
    )
    token.full_clean()
    token.save()
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor) -> ApiToken:
    """Revoke one of `actor`'s own tokens (idempotent)."""
    if token.user_id != actor.pk or not permissions.can_manage_api_tokens(actor):
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_user(raw: str):
    """The active merchant user a raw token belongs to, or None (unknown, revoked, disabled)."""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user", "user__merchant")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    user = token.user
    if not user.is_active or not permissions.can_manage_api_tokens(user):
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user
