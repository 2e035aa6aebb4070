"""Login sessions: start one at login, rotate its refresh token, revoke one or all.

A session is revoked as a whole, which also ends its access tokens: every request
looks the session up (accounts.authentication), so revocation takes effect at once.
What else ends a session (its cap, a new password, deactivation) is the model's rule,
LoginSession.check_usable, applied to access and refresh tokens alike.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts import audit, ratelimit, tokens
from accounts.exceptions import RateLimited, Unauthenticated
from accounts.models import LoginSession, RefreshToken, User
from project import metrics


@dataclass(frozen=True)
class TokenPair:
    user: User
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    session_id: uuid.UUID


def _new_refresh_token(user, session):
    refresh = tokens.REFRESH.issue(user, session)
    RefreshToken.objects.create(
        jti=refresh.jti,
        session=session,
        issued_at=refresh.issued_at,
        expires_at=refresh.expires_at,
    )
    return refresh


def _pair(user, session, refresh):
    """A new access token beside the refresh token `refresh` (an IssuedToken)."""
    access = tokens.ACCESS.issue(user, session)
    return TokenPair(
        user=user,
        access=access.token,
        refresh=refresh.token,
        access_expires_at=access.expires_at,
        refresh_expires_at=refresh.expires_at,
        session_id=session.id,
    )


@transaction.atomic
def start_session(user):
    session = LoginSession.objects.create(user=user, password_digest=LoginSession.password_digest_of(user))
    return _pair(user, session, _new_refresh_token(user, session))


def _recorded_refresh_token(claims):
    """The stored record of a verified refresh token, or None if it does not match one."""
    record = (
        RefreshToken.objects.select_related("session__user")
        .filter(jti=claims.jti, session_id=claims.session_id)
        .first()
    )
    if record is None or str(record.session.user_id) != claims.user_id:
        return None
    return record


def _refresh_failure_result(error):
    """The result metrics.REFRESHES counts for a refused refresh: the contract's reason, or rate_limited."""
    if isinstance(error, Unauthenticated):
        return error.reason
    return "rate_limited" if isinstance(error, RateLimited) else None


@metrics.counting(metrics.REFRESHES, _refresh_failure_result)
def rotate(raw_refresh, meta):
    """Consume a refresh token and return a new pair in the same session.

    A token that was already consumed is a sign that it leaked: the whole session is
    revoked, so both the thief and the victim must log in again. Except within the retry
    grace (JWT_REFRESH_GRACE_SECONDS) while its successor is unused: then it is a retry whose
    answer was lost, or another tab refreshing at the same moment, and it gets that same
    successor again, so the chain never forks.
    """
    ratelimit.check_token(meta)
    claims = tokens.REFRESH.decode(raw_refresh)
    record = _recorded_refresh_token(claims)
    if record is None:
        raise Unauthenticated(Unauthenticated.INVALID)
    session, user = record.session, record.session.user
    session.check_usable()

    with transaction.atomic():
        pair = _consume(record, user, session) or _same_successor_again(record.pk)
    if pair is None:
        revoke_session(session.id)
        metrics.count(metrics.REFRESH_TOKEN_REUSE)
        audit.record(audit.EventType.TOKEN_REUSE_DETECTED, meta, user=user, success=False)
        raise Unauthenticated(Unauthenticated.REVOKED)
    audit.record(audit.EventType.TOKEN_REFRESH, meta, user=user)
    return pair


def _consume(record, user, session):
    """A new pair if this call consumed `record`, None if it was consumed already.

    The conditional UPDATE makes "consume" atomic: of concurrent calls exactly one wins. The
    caller's transaction also records the successor, so a loser, whose UPDATE waits for the
    winner to commit (a row lock on PostgreSQL, the write lock of an IMMEDIATE transaction
    on SQLite), then finds it.
    """
    consumed = RefreshToken.objects.filter(pk=record.pk, consumed_at__isnull=True).update(consumed_at=timezone.now())
    if not consumed:
        return None
    successor = _new_refresh_token(user, session)
    RefreshToken.objects.filter(pk=record.pk).update(successor_id=successor.jti)
    return _pair(user, session, successor)


def _same_successor_again(jti):
    """For a consumed token within its retry grace whose successor is unused: a pair with that
    successor (same jti, iat and exp) and a new access token. None when it is reuse.

    Only a live session gets one: the session is read again, as it is now.
    """
    now = timezone.now()
    grace = timedelta(seconds=settings.JWT["REFRESH_GRACE_SECONDS"])
    consumed = RefreshToken.objects.select_related("successor", "session__user").get(pk=jti)
    successor = consumed.successor
    if successor is None or successor.consumed_at is not None or now - consumed.consumed_at >= grace:
        return None
    session, user = consumed.session, consumed.session.user
    session.check_usable(now)
    refresh = tokens.REFRESH.sign(user, session, successor.jti, successor.issued_at, successor.expires_at)
    return _pair(user, session, refresh)


def revoke_session(session_id):
    return LoginSession.objects.filter(pk=session_id).revoke()


def revoke(raw_refresh, meta):
    """Revoke the session a refresh token belongs to; False if it was already over."""
    ratelimit.check_token(meta)
    try:
        claims = tokens.REFRESH.decode(raw_refresh)
    except Unauthenticated as rejected:
        if rejected.reason == Unauthenticated.EXPIRED:
            return False
        raise
    record = _recorded_refresh_token(claims)
    if record is None:
        raise Unauthenticated(Unauthenticated.INVALID)
    try:
        record.session.check_usable()
    except Unauthenticated:
        return False
    revoked = bool(revoke_session(record.session_id))
    if revoked:
        audit.record(audit.EventType.TOKEN_REVOKED, meta, user=record.session.user)
    return revoked


def revoke_all(user, meta):
    count = revoke_all_sessions(user)
    audit.record(audit.EventType.ALL_TOKENS_REVOKED, meta, user=user)
    return count


def revoke_all_sessions(user):
    """Revoke the sessions of `user` that still work; how many there were."""
    return LoginSession.objects.still_working(user).revoke()
