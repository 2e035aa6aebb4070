"""Rate limits on the public mutations (API.md sections 4 and 5), counted in Django's cache.

Counting is django-ratelimit's: a fixed window per key, cache.add then cache.incr, in the
cache settings.RATELIMIT_USE_CACHE names (a table of the database, or Redis with REDIS_URL),
so every gunicorn worker sees the same number. That cache keeps each counter until its
window ends, however many others exist (project.cache.CounterDatabaseCache; for Redis a
maxmemory-policy of noeviction, accounts.checks), and both backends increment atomically.
Windows follow time.time(), which tests move with time-machine instead of sleeping.

Each call counts one attempt, and the callers call once per field execution, so fifty
aliased tokenAuth fields in one document are fifty attempts.
"""

import time

from django.conf import settings
from django.core.cache import caches
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage

from accounts import audit, usernames
from accounts.exceptions import RateLimited
from project import metrics


def _count_attempt(scope, value, rate):
    """Count one attempt of `value` (an IP or a username) under `scope`; its usage dict."""
    # django-ratelimit takes the request only to compute keys; ours are computed already.
    return get_usage(None, group=scope, key=lambda group, request: value, rate=rate, increment=True)


def _seconds_limited(scope, value, rate):
    """How long `value` stays refused under `scope` (0 if it is not), read without creating its counter."""
    # get_usage would create the counter (cache.add) even without counting; its key is django-ratelimit's.
    limit, period = _split_rate(rate)
    window = _get_window(value, period)
    count = caches[settings.RATELIMIT_USE_CACHE].get(_make_cache_key(scope, window, rate, value, ALL), 0)
    return window - int(time.time()) if count >= limit else 0


def _over_limit(limits, meta, username="", user=None):
    """Count an attempt against each (scope, value, rate) in turn; at the first that is over,
    audit the refusal and return the seconds a retry must wait (else 0).

    The limits after a refusing one are not counted: the attempt never reached them, and
    counting would let refused requests create counters at will (one per made-up username).
    They are only read, so that the wait covers every limit a retry would meet. The refusal
    is audited for `user` when a viewer made the attempt, else for the username given.
    """
    for position, limit in enumerate(limits):
        usage = _count_attempt(*limit)
        if usage["should_limit"]:
            metrics.count(metrics.RATE_LIMITED, scope=limit[0])
            audit.record(audit.EventType.RATE_LIMITED, meta, user=user, username=username, success=False)
            waits = [usage["time_left"], *(_seconds_limited(*later) for later in limits[position + 1 :])]
            # A window's last second still belongs to it: the next window starts one second later.
            return max(1, max(waits) + 1)
    return 0


def _enforce(limits, meta, username="", user=None):
    """RateLimited when an attempt is over one of `limits` (see _over_limit)."""
    retry_after = _over_limit(limits, meta, username=username, user=user)
    if retry_after:
        raise RateLimited(retry_after=retry_after)


def _password_budget(username):
    """One budget per user, shared by every check of their password: keyed by the canonical
    username, so `ALICE`, `ａｌｉｃｅ` and alice's own mutations all spend alice's budget."""
    return ("password:user", usernames.canonical(username), settings.LOGIN_RATE_LIMIT)


LOGIN_IP_SCOPE = "login:ip"
# confirmTotp and disableTotp keep the per-IP count of their own they always had.
TOTP_IP_SCOPE = "otp:ip"


def check_login(username, meta):
    """One tokenAuth attempt (a password, and a one-time code with it): per client IP, and from
    the password budget of the user it names, whether or not that user exists."""
    _enforce(
        [(LOGIN_IP_SCOPE, meta.client_key, settings.LOGIN_RATE_LIMIT), _password_budget(username)],
        meta,
        username=username,
    )


def check_viewer_password(user, meta, ip_scope=LOGIN_IP_SCOPE):
    """A mutation about to check the viewer's password (changePassword, createApiKey, and with
    TOTP_IP_SCOPE confirmTotp and disableTotp): per client IP, and from the viewer's password
    budget, so a stolen access token buys no guesses beyond tokenAuth's."""
    _enforce(
        [(ip_scope, meta.client_key, settings.LOGIN_RATE_LIMIT), _password_budget(user.get_username())],
        meta,
        user=user,
    )


def check_token(meta):
    """One refreshToken or revokeToken call, limited per client IP."""
    _enforce([("token:ip", meta.client_key, settings.TOKEN_RATE_LIMIT)], meta)


def check_register(meta):
    _enforce([("register:ip", meta.client_key, settings.REGISTER_RATE_LIMIT)], meta)


OIDC_AUTHORIZATION_SCOPE = "oidc-authorization:ip"
OIDC_LOGIN_SCOPE = "oidc-login:ip"


def check_oidc(scope, meta):
    """One oidcAuthorizationUrl (OIDC_AUTHORIZATION_SCOPE) or oidcLogin (OIDC_LOGIN_SCOPE) call,
    per client IP, each mutation counted on its own."""
    _enforce([(scope, meta.client_key, settings.OIDC_RATE_LIMIT)], meta)


def allows_password_reset(address, meta):
    """One requestPasswordReset, per client IP and per address whether or not anyone has it.
    Over either limit the mutation answers as always and sends nothing, so the answer tells
    nothing; the refusal is still audited."""
    rate = settings.PASSWORD_RESET_RATE_LIMIT
    limits = [("reset:ip", meta.client_key, rate), ("reset:address", address.lower(), rate)]
    return not _over_limit(limits, meta, username=address)


def check_mail_from_viewer(user, address, meta):
    """resendVerificationEmail and changeEmail: the mail a viewer makes the server send, per user
    and per address it goes to, at PASSWORD_RESET_RATE_LIMIT."""
    rate = settings.PASSWORD_RESET_RATE_LIMIT
    _enforce([("mail:user", str(user.pk), rate), ("mail:address", address.lower(), rate)], meta, user=user)


def check_link_token(meta):
    """One resetPassword or verifyEmail, per client IP: tokens from links are tried no faster
    than refresh tokens."""
    _enforce([("link:ip", meta.client_key, settings.TOKEN_RATE_LIMIT)], meta)
