"""API keys: long-lived credentials for services, sent as `X-API-Key: <secret>`.

A secret looks like `gqlauth_<16 hex>_<43 random characters>`. The brand makes a leaked key
easy to recognise (secret scanners, log filters); `gqlauth_<16 hex>` is the key's public,
unique `prefix`, which finds its row through a unique index, so no request scans the keys;
the 256 random bits after it are the secret part. Only a digest of the whole secret is
stored, and it is compared in constant time.
"""

import hmac
import re
import secrets
from datetime import UTC, timedelta

from django.db.models import Q
from django.utils import timezone

from accounts import audit
from accounts.digests import digest
from accounts.exceptions import NotFound, TokenRejected, ValidationFailed
from accounts.models import ApiKey

BRAND = "gqlauth_"
PREFIX_RANDOM_BYTES = 8
SECRET_RANDOM_BYTES = 32
SECRET_PATTERN = re.compile(rf"({BRAND}[0-9a-f]{{{2 * PREFIX_RANDOM_BYTES}}})_[A-Za-z0-9_-]{{43}}")
# lastUsedAt is kept to the minute, so that a busy key does not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length


def create(user, name, read_only, expires_at, meta):
    """A new key of `user`; returns the key and its secret, which is never available again."""
    name = (name or "").strip()
    if expires_at is not None and timezone.is_naive(expires_at):
        expires_at = timezone.make_aware(expires_at, UTC)
    errors = {}
    if not name:
        errors["name"] = ["Give the key a name, so you can recognise it later."]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [f"At most {NAME_MAX_LENGTH} characters."]
    elif "\x00" in name:
        errors["name"] = ["Must not contain null characters."]
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = ["The expiry must be in the future."]
    if errors:
        raise ValidationFailed(errors)
    prefix = BRAND + secrets.token_hex(PREFIX_RANDOM_BYTES)
    secret = f"{prefix}_{secrets.token_urlsafe(SECRET_RANDOM_BYTES)}"
    key = ApiKey.objects.create(
        user=user, name=name, prefix=prefix, secret_hash=digest(secret), read_only=read_only, expires_at=expires_at
    )
    audit.record(audit.EventType.API_KEY_CREATED, meta, user=user)
    return key, secret


def keys_of(user):
    return ApiKey.objects.filter(user=user).order_by("-created_at", "-pk")


def key_of(user, pk):
    """One of `user`'s keys; someone else's key is not found, as if it did not exist."""
    key = keys_of(user).filter(pk=pk).first()
    if key is None:
        raise NotFound()
    return key


def revoke_own(user, pk, meta):
    key = key_of(user, pk)
    revoke(key, meta)
    return key


def revoke(key, meta):
    """Revoke `key` at once; False if it already was."""
    now = timezone.now()
    revoked = bool(ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now))
    if revoked:
        key.revoked_at = now
        audit.record(audit.EventType.API_KEY_REVOKED, meta, user=key.user)
    return revoked


def authenticate(secret):
    """The usable key a secret belongs to, or TokenRejected(api_key_invalid)."""
    match = SECRET_PATTERN.fullmatch(secret.strip())
    if match is None:
        raise TokenRejected(TokenRejected.API_KEY_INVALID)
    key = ApiKey.objects.select_related("user").filter(prefix=match[1]).first()
    if key is None or not hmac.compare_digest(key.secret_hash, digest(match[0])):
        raise TokenRejected(TokenRejected.API_KEY_INVALID)
    now = timezone.now()
    expired = key.expires_at is not None and key.expires_at <= now
    if key.revoked_at is not None or expired or not key.user.is_active:
        raise TokenRejected(TokenRejected.API_KEY_INVALID)
    _note_use(key, now)
    return key


def _note_use(key, now):
    """Set lastUsedAt unless it was set less than a minute ago (then no query at all).

    The condition is repeated in the UPDATE so that concurrent requests write it once.
    """
    stale_before = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > stale_before:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    if ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now):
        key.last_used_at = now
