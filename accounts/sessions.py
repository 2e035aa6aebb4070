"""Login sessions: start one at login, rotate its refresh token, revoke one or all.

A session is revoked as a whole, which also ends its access tokens: every request
looks the session up (accounts.authentication), so revocation takes effect at once.
What else ends a session (its cap, a new password, deactivation) is the model's rule,
LoginSession.check_usable, applied to access and refresh tokens alike.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from accounts import audit, ratelimit, tokens
from accounts.exceptions import RateLimited, TokenRejected
from accounts.models import LoginSession, RefreshToken
from project import metrics


@dataclass(frozen=True)
class TokenPair:
    user: object
    access: str
    refresh: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    session_id: uuid.UUID


def _issue_pair(user, session):
    access = tokens.issue_access(user, session)
    refresh = tokens.issue_refresh(user, session)
    RefreshToken.objects.create(
        jti=refresh.jti,
        session=session,
        issued_at=refresh.issued_at,
        expires_at=refresh.expires_at,
    )
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
    return _issue_pair(user, session)


def _recorded_refresh_token(claims):
    """The stored record of a verified refresh token, or None if it does not match one."""
    record = (
        RefreshToken.objects.select_related("session__user")
        .filter(jti=uuid.UUID(claims["jti"]), session_id=uuid.UUID(claims["sid"]))
        .first()
    )
    if record is None or str(record.session.user_id) != claims["user_id"]:
        return None
    return record


def _refresh_failure_result(error):
    """The result metrics.REFRESHES counts for a refused refresh: the contract's reason, or rate_limited."""
    if isinstance(error, TokenRejected):
        return error.reason
    return "rate_limited" if isinstance(error, RateLimited) else None


@metrics.counting(metrics.REFRESHES, _refresh_failure_result)
def rotate(raw_refresh, meta):
    """Consume a refresh token and return a new pair in the same session.

    A token that was already consumed is a sign that it leaked: the whole session is
    revoked, so both the thief and the victim must log in again. The conditional
    UPDATE makes "consume" atomic, so of two concurrent uses exactly one wins.
    """
    ratelimit.check_token(meta)
    claims = tokens.decode(raw_refresh, tokens.REFRESH)
    record = _recorded_refresh_token(claims)
    if record is None:
        raise TokenRejected(TokenRejected.INVALID)
    session, user = record.session, record.session.user
    session.check_usable()

    with transaction.atomic():
        consumed = RefreshToken.objects.filter(pk=record.pk, consumed_at__isnull=True).update(
            consumed_at=timezone.now()
        )
        if consumed:
            pair = _issue_pair(user, session)
    if not consumed:
        revoke_session(session.id)
        metrics.count(metrics.REFRESH_TOKEN_REUSE)
        audit.record(audit.EventType.TOKEN_REUSE_DETECTED, meta, user=user, success=False)
        raise TokenRejected(TokenRejected.REVOKED)
    audit.record(audit.EventType.TOKEN_REFRESH, meta, user=user)
    return pair


def revoke_session(session_id):
    return LoginSession.objects.filter(pk=session_id).revoke()


def revoke(raw_refresh, meta):
    """Revoke the session a refresh token belongs to; False if it was already over."""
    ratelimit.check_token(meta)
    try:
        claims = tokens.decode(raw_refresh, tokens.REFRESH)
    except TokenRejected as rejected:
        if rejected.reason == TokenRejected.EXPIRED:
            return False
        raise
    record = _recorded_refresh_token(claims)
    if record is None:
        raise TokenRejected(TokenRejected.INVALID)
    try:
        record.session.check_usable()
    except TokenRejected:
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
