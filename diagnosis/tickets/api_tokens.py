"""API tokens of merchant users: created, shown once, stored as a SHA-256 hash, revocable.

A token looks like `dd_<43 url-safe characters>` (256 bits of randomness). Only its hash and a
display prefix (`dd_` + 8 characters) are stored; a lost token is revoked and replaced. A token
expires API_TOKEN_EXPIRY_DAYS (default 365) after it was created, and every token of a user is
revoked when that user's password changes. Tokens are only accepted in the Authorization
header; one sent in a query string is refused, and log lines never show one
(diagnosis.core.cards.CardNumberLogFilter hides `dd_…`).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
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


def expiry_days() -> int:
    return int(getattr(settings, "API_TOKEN_EXPIRY_DAYS", 365))


@transaction.atomic
def api_token_create(*, user, name: str = "") -> tuple[ApiToken, str]:
    """A new token for merchant user `user`; returns (stored token, the raw token to show once)."""
    if not permissions.can_manage_api_tokens(user):
        raise PermissionDenied
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=(name or "").strip()[:60],
        prefix=raw[:PREFIX_LENGTH],
        token_hash=hash_token(raw),
        created_at=now,
        expires_at=now + timedelta(days=expiry_days()),
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
        token.revoked_reason = ApiToken.RevokedReason.OWNER
        token.save(update_fields=["revoked_at", "revoked_reason"])
    return token


def api_tokens_revoke_all(*, user, reason: str = ApiToken.RevokedReason.PASSWORD_CHANGED) -> int:
    """Revoke every active token of `user` (their password changed), staff tokens included.
    Returns how many."""
    from diagnosis.desk.api_tokens import staff_tokens_revoke_all

    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_reason=reason
    ) + staff_tokens_revoke_all(user=user, reason=reason)


def api_token_user(raw: str):
    """The active merchant user a raw token belongs to, or None (unknown, revoked, expired,
    disabled)."""
    if not isinstance(raw, str) or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__merchant")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = token.user
    if not user.is_active or not permissions.can_manage_api_tokens(user):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    user.api_token = token  # which token authenticated this request (rate limits per token)
    return user
