"""Rate limits on the public mutations (API.md sections 4 and 5), counted in Django's cache.

Counting is django-ratelimit's: a fixed window per key, cache.add then cache.incr, so the
count lives wherever the default cache does (the database cache, or Redis with REDIS_URL)
and every gunicorn worker sees the same number. Both backends increment atomically
(Redis INCR; project.cache.AtomicDatabaseCache locks the row). Windows follow time.time(),
which tests move with time-machine instead of sleeping.

Each call counts one attempt, and the callers call once per field execution, so fifty
aliased tokenAuth fields in one document are fifty attempts.
"""

import ipaddress

from django.conf import settings
from django_ratelimit.core import get_usage

from accounts import audit, usernames
from accounts.exceptions import RateLimited


def _count_attempt(scope, value, rate):
    """Count one attempt of `value` (an IP or a username) under `scope`; its usage dict."""
    # django-ratelimit takes the request only to compute keys; ours are computed already.
    return get_usage(None, group=scope, key=lambda group, request: value, rate=rate, increment=True)


def _enforce(limits, meta, username=""):
    """Count an attempt against each (scope, value, rate); RateLimited if any is over."""
    exceeded = [usage for usage in (_count_attempt(*limit) for limit in limits) if usage["should_limit"]]
    if exceeded:
        audit.record(audit.EventType.RATE_LIMITED, meta, username=username, success=False)
        # A window's last second still belongs to it: the next window starts one second later.
        raise RateLimited(retry_after=max(1, max(usage["time_left"] for usage in exceeded) + 1))


def _ip_key(meta):
    """The client address; for IPv6 its /64, since one subscriber usually holds a whole /64."""
    try:
        address = ipaddress.ip_address(meta.ip)
    except ValueError:
        # No REMOTE_ADDR (a Unix socket without a proxy): all such clients share one count.
        return str(meta.ip)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def check_login(username, meta):
    """One password (or one-time code) attempt, limited per client IP and per username."""
    rate = settings.LOGIN_RATE_LIMIT
    _enforce(
        [("login:ip", _ip_key(meta), rate), ("login:username", usernames.canonical(username), rate)],
        meta,
        username=username,
    )


def check_otp(user, meta):
    """One one-time code attempt outside login (confirming or disabling TOTP), limited like passwords."""
    rate = settings.LOGIN_RATE_LIMIT
    _enforce(
        [("otp:ip", _ip_key(meta), rate), ("otp:user", str(user.pk), rate)],
        meta,
        username=user.get_username(),
    )


def check_token(meta):
    """One refreshToken or revokeToken call, limited per client IP."""
    _enforce([("token:ip", _ip_key(meta), settings.TOKEN_RATE_LIMIT)], meta)


def check_register(meta):
    _enforce([("register:ip", _ip_key(meta), settings.REGISTER_RATE_LIMIT)], meta)
