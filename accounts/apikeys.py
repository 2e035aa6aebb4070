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

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts import audit, ratelimit
from accounts.compiled_lookup import CompiledLookup
from accounts.current_password import require_current_password
from accounts.digests import digest
from accounts.exceptions import NotFound, Unauthenticated, ValidationFailed
from accounts.models import ApiKey

BRAND = "gqlauth_"
PREFIX_RANDOM_BYTES = 8
SECRET_RANDOM_BYTES = 32
SECRET_PATTERN = re.compile(rf"({BRAND}[0-9a-f]{{{2 * PREFIX_RANDOM_BYTES}}})_[A-Za-z0-9_-]{{43}}")
# lastUsedAt (and lastUsedIp with it) is kept to the minute, so that a busy key does not write on
# every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length
# The key with its owner, which every request with a key reads.
KEY_WITH_USER = CompiledLookup(ApiKey, "prefix", related="user")


def create(user, name, read_only, expires_at, password, meta):
    """A new key of `user`; returns the key and its secret, which is never available again.

    A key outlives sessions and password changes, so making one needs the current password (an
    access token alone must not become a lasting credential), and it expires at the latest
    API_KEY_MAX_LIFETIME seconds after creation, which is also its expiry when none is given.
    """
    ratelimit.check_viewer_password(user, meta)
    name = (name or "").strip()
    now = timezone.now()
    latest_expiry = now + timedelta(seconds=settings.API_KEY_MAX_LIFETIME)
    expires_at = latest_expiry if expires_at is None else _in_utc(expires_at)
    errors = {}
    if not name:
        errors["name"] = ["Give the key a name, so you can recognise it later."]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [f"At most {NAME_MAX_LENGTH} characters."]
    elif "\x00" in name:
        errors["name"] = ["Must not contain null characters."]
    if expires_at is _UNSTORABLE:
        errors["expires_at"] = ["Must fall between the years 1 and 9999 in UTC."]
    elif expires_at <= now:
        errors["expires_at"] = ["The expiry must be in the future."]
    elif expires_at > latest_expiry:
        errors["expires_at"] = [
            f"Must be no later than {latest_expiry.isoformat()}: keys live at most "
            f"{settings.API_KEY_MAX_LIFETIME} seconds."
        ]
    if errors:
        raise ValidationFailed(errors)
    require_current_password(user, password)
    prefix = BRAND + secrets.token_hex(PREFIX_RANDOM_BYTES)
    secret = f"{prefix}_{secrets.token_urlsafe(SECRET_RANDOM_BYTES)}"
    key = ApiKey.objects.create(
        user=user, name=name, prefix=prefix, secret_hash=digest(secret), read_only=read_only, expires_at=expires_at
    )
    audit.record(audit.EventType.API_KEY_CREATED, meta, user=user)
    return key, secret


_UNSTORABLE = object()


def _in_utc(moment):
    """`moment` in UTC (a naive one is taken as UTC), or _UNSTORABLE when UTC puts it outside
    the years 1 to 9999: the database stores UTC, and PostgreSQL would keep a year 10000 that
    no later read could turn back into a datetime."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return _UNSTORABLE


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


def revoke_all_of(user, meta):
    """Revoke every live key of `user` at once (a password reset does); returns how many."""
    revoked = ApiKey.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    for _ in range(revoked):
        audit.record(audit.EventType.API_KEY_REVOKED, meta, user=user)
    return revoked


def authenticate(secret, client_ip=None):
    """The usable key a secret belongs to, or Unauthenticated(api_key_invalid).

    `client_ip` is where the request came from: the owner sees it as the key's last use.
    """
    match = SECRET_PATTERN.fullmatch(secret.strip())
    if match is None:
        raise Unauthenticated(Unauthenticated.API_KEY_INVALID)
    key = KEY_WITH_USER.find(match[1])
    if key is None or not hmac.compare_digest(key.secret_hash, digest(match[0])):
        raise Unauthenticated(Unauthenticated.API_KEY_INVALID)
    now = timezone.now()
    if not key.is_usable(now):
        raise Unauthenticated(Unauthenticated.API_KEY_INVALID)
    _note_use(key, now, client_ip)
    return key


def _note_use(key, now, client_ip):
    """Set lastUsedAt and lastUsedIp unless they were set less than a minute ago (then no query
    at all). The condition is repeated in the UPDATE so that concurrent requests write it once.
    """
    stale_before = now - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > stale_before:
        return
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale_before)
    if ApiKey.objects.filter(stale, pk=key.pk).update(last_used_at=now, last_used_ip=client_ip):
        key.last_used_at, key.last_used_ip = now, client_ip
