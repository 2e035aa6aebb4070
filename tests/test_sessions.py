"""accounts.sessions below HTTP: starting a session, rotating its refresh token, reuse, and revoking."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts import audit, sessions, tokens
from accounts.authentication import authenticate_access_token
from accounts.exceptions import Unauthenticated
from accounts.models import AuditEvent, LoginSession, RefreshToken
from accounts.request_meta import RequestMeta

META = RequestMeta(ip="192.0.2.1")
PAST_THE_GRACE = timedelta(seconds=settings.JWT["REFRESH_GRACE_SECONDS"] + 1)


def refused(call, *args):
    with pytest.raises(Unauthenticated) as refusal:
        call(*args)
    return refusal.value.reason


@pytest.fixture
def pair(alice):
    return sessions.start_session(alice)


def test_a_session_starts_with_a_pair_of_its_own(alice, pair):
    assert LoginSession.objects.get(pk=pair.session_id).user == alice
    assert tokens.REFRESH.decode(pair.refresh).session_id == pair.session_id
    assert authenticate_access_token(pair.access).user == alice
    assert RefreshToken.objects.filter(session_id=pair.session_id, consumed_at=None).count() == 1


def test_rotating_consumes_the_refresh_token_and_keeps_the_session(pair):
    rotated = sessions.rotate(pair.refresh, META)
    assert rotated.session_id == pair.session_id and rotated.refresh != pair.refresh
    consumed = RefreshToken.objects.get(jti=tokens.REFRESH.decode(pair.refresh).jti)
    assert consumed.consumed_at is not None
    assert consumed.successor_id == tokens.REFRESH.decode(rotated.refresh).jti
    assert AuditEvent.objects.filter(type=audit.EventType.TOKEN_REFRESH, success=True).count() == 1


def test_within_the_grace_a_consumed_token_gets_the_same_successor(pair):
    first = sessions.rotate(pair.refresh, META)
    again = sessions.rotate(pair.refresh, META)
    assert again.refresh == first.refresh
    assert LoginSession.objects.get(pk=pair.session_id).revoked_at is None


def test_reuse_past_the_grace_revokes_the_session(pair):
    successor = sessions.rotate(pair.refresh, META)
    with time_machine.travel(timezone.now() + PAST_THE_GRACE):
        assert refused(sessions.rotate, pair.refresh, META) == Unauthenticated.REVOKED
        assert refused(sessions.rotate, successor.refresh, META) == Unauthenticated.REVOKED
        assert refused(authenticate_access_token, successor.access) == Unauthenticated.REVOKED
    assert AuditEvent.objects.filter(type=audit.EventType.TOKEN_REUSE_DETECTED, success=False).count() == 1


def test_reuse_once_the_successor_was_used_revokes_the_session(pair):
    successor = sessions.rotate(pair.refresh, META)
    sessions.rotate(successor.refresh, META)
    assert refused(sessions.rotate, pair.refresh, META) == Unauthenticated.REVOKED
    assert LoginSession.objects.get(pk=pair.session_id).revoked_at is not None


def test_an_access_token_cannot_be_rotated(pair):
    assert refused(sessions.rotate, pair.access, META) == Unauthenticated.INVALID
    assert RefreshToken.objects.filter(consumed_at__isnull=False).count() == 0


def test_revoking_ends_the_session_once(pair):
    assert sessions.revoke(pair.refresh, META) is True
    assert sessions.revoke(pair.refresh, META) is False
    assert refused(authenticate_access_token, pair.access) == Unauthenticated.REVOKED
    assert refused(sessions.rotate, pair.refresh, META) == Unauthenticated.REVOKED


def test_revoking_all_leaves_other_users_alone(alice, bob, pair):
    sessions.start_session(alice)
    bobs = sessions.start_session(bob)
    assert sessions.revoke_all(alice, META) == 2
    assert refused(authenticate_access_token, pair.access) == Unauthenticated.REVOKED
    assert authenticate_access_token(bobs.access).user == bob
