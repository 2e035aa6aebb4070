"""Retry grace (API.md sections 1 and 10.2): a consumed refresh token whose successor is unused
answers again with that same successor for JWT_REFRESH_GRACE_SECONDS, so a lost answer or two
tabs refreshing at once keep the session and the chain never forks; anything else is reuse."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts import sessions
from accounts.models import AuditEvent, LoginSession, RefreshToken
from tests.graphql_util import GraphQLClient, only_error
from tests.keys_util import configured
from tests.tokens_util import claims_of

REFRESH = "mutation($r: String!) { refreshToken(refresh: $r) { access refresh refreshExpiresAt } }"
ME = "{ me { username } }"
NO_GRACE = {**settings.JWT, "REFRESH_GRACE_SECONDS": 0}
PRESENTATIONS = 10


def refresh(token):
    return GraphQLClient().execute(REFRESH, {"r": token})


def renewed(token):
    result = refresh(token)
    assert "errors" not in result, result
    return result["data"]["refreshToken"]


def reason(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error["extensions"]["reason"]


def me(access):
    return GraphQLClient().authenticate(access).execute(ME)


def identity(token):
    claims = claims_of(token)
    return claims["jti"], claims["iat"], claims["exp"]


def session_of(token):
    return LoginSession.objects.get(pk=claims_of(token)["sid"])


@pytest.fixture
def tokens(gql, alice):
    return gql.login("alice")


def test_a_retry_within_the_grace_gets_the_same_successor(tokens):
    first = renewed(tokens["refresh"])
    with time_machine.travel(timezone.now() + timedelta(seconds=29)):
        retried = renewed(tokens["refresh"])
        assert me(retried["access"])["data"]["me"]["username"] == "alice"
        # The chain goes on from the one successor.
        assert renewed(first["refresh"])["refresh"]

    assert identity(retried["refresh"]) == identity(first["refresh"])
    assert retried["refresh"] == first["refresh"]  # HMAC signs the same claims the same way
    assert retried["refreshExpiresAt"] == first["refreshExpiresAt"]
    assert RefreshToken.objects.filter(session_id=claims_of(tokens["refresh"])["sid"]).count() == 3
    assert list(AuditEvent.objects.values_list("type", flat=True).order_by("id")) == [
        "LOGIN_SUCCESS",
        "TOKEN_REFRESH",
        "TOKEN_REFRESH",
        "TOKEN_REFRESH",
    ]


def test_reuse_after_the_successor_was_used_revokes_the_session(tokens):
    successor = renewed(tokens["refresh"])
    newest = renewed(successor["refresh"])

    assert reason(refresh(tokens["refresh"])) == "token_revoked"

    assert session_of(tokens["refresh"]).revoked_at is not None
    assert reason(refresh(newest["refresh"])) == "token_revoked"
    assert reason(me(newest["access"])) == "token_revoked"
    assert AuditEvent.objects.filter(type="TOKEN_REUSE_DETECTED", success=False).count() == 1


def test_reuse_after_the_window_revokes_the_session(tokens):
    successor = renewed(tokens["refresh"])
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        assert reason(refresh(tokens["refresh"])) == "token_revoked"
        assert reason(refresh(successor["refresh"])) == "token_revoked"
    assert AuditEvent.objects.filter(type="TOKEN_REUSE_DETECTED").count() == 1


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_with_any_signing_algorithm_the_retry_is_the_same_successor(gql, alice, algorithm):
    with configured(algorithm, "A"):
        tokens = gql.login("alice")
        first = renewed(tokens["refresh"])
        retried = renewed(tokens["refresh"])
        # ECDSA signs the same claims differently each time; what the holder gets is the same token.
        assert identity(retried["refresh"]) == identity(first["refresh"])
        assert renewed(retried["refresh"])["refresh"]


@override_settings(JWT={**settings.JWT, "REFRESH_GRACE_SECONDS": 120})
def test_the_window_is_the_configured_one(tokens):
    first = renewed(tokens["refresh"])
    with time_machine.travel(timezone.now() + timedelta(seconds=119)):
        assert identity(renewed(tokens["refresh"])["refresh"]) == identity(first["refresh"])


@override_settings(JWT=NO_GRACE)
def test_without_grace_a_second_presentation_is_reuse(tokens):
    successor = renewed(tokens["refresh"])
    assert reason(refresh(tokens["refresh"])) == "token_revoked"
    assert reason(refresh(successor["refresh"])) == "token_revoked"


def test_no_grace_once_the_session_was_revoked(tokens):
    renewed(tokens["refresh"])
    GraphQLClient().execute("mutation($r: String!) { revokeToken(refresh: $r) { revoked } }", {"r": tokens["refresh"]})
    assert reason(refresh(tokens["refresh"])) == "token_revoked"


def test_no_grace_once_the_password_changed(tokens, alice):
    renewed(tokens["refresh"])
    alice.set_password("a brand new passphrase")
    alice.save()
    assert reason(refresh(tokens["refresh"])) == "token_revoked"


def test_no_grace_past_the_sessions_cap(tokens):
    renewed(tokens["refresh"])
    with override_settings(JWT={**settings.JWT, "SESSION_MAX_LIFETIME": 1}):
        with time_machine.travel(timezone.now() + timedelta(seconds=2)):
            assert reason(refresh(tokens["refresh"])) == "token_expired"


def present_at_once(token, count=PRESENTATIONS):
    """`count` threads present `token` together, each on its own connection; every one of them
    has found the token unconsumed before any of them consumes it."""
    results = []
    all_found = threading.Barrier(count, timeout=30)
    find = sessions._recorded_refresh_token

    def find_then_wait_for_all(claims):
        record = find(claims)
        all_found.wait()
        return record

    def attempt():
        try:
            results.append(refresh(token))
        finally:
            connection.close()

    with mock.patch.object(sessions, "_recorded_refresh_token", find_then_wait_for_all):
        threads = [threading.Thread(target=attempt) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == count
    return results


@pytest.mark.django_db(transaction=True)
@override_settings(TOKEN_RATE_LIMIT="100/m")
def test_simultaneous_presentations_share_one_successor_and_keep_the_session(make_user):
    make_user("alice")
    tokens = GraphQLClient().login("alice")

    results = present_at_once(tokens["refresh"])

    assert [result.get("errors") for result in results] == [None] * PRESENTATIONS
    successors = {identity(result["data"]["refreshToken"]["refresh"]) for result in results}
    assert len(successors) == 1
    assert session_of(tokens["refresh"]).revoked_at is None
    assert RefreshToken.objects.filter(session_id=claims_of(tokens["refresh"])["sid"]).count() == 2
    newest = renewed(results[0]["data"]["refreshToken"]["refresh"])
    assert me(newest["access"])["data"]["me"]["username"] == "alice"
    assert AuditEvent.objects.filter(type="TOKEN_REFRESH").count() == PRESENTATIONS + 1
    assert not AuditEvent.objects.filter(type="TOKEN_REUSE_DETECTED").exists()


@pytest.mark.django_db(transaction=True)
@override_settings(TOKEN_RATE_LIMIT="100/m", JWT=NO_GRACE)
def test_without_grace_exactly_one_simultaneous_presentation_succeeds(make_user):
    make_user("alice")
    tokens = GraphQLClient().login("alice")

    results = present_at_once(tokens["refresh"])

    succeeded = [result for result in results if result.get("data")]
    assert len(succeeded) == 1
    assert sorted(reason(result) for result in results if not result.get("data")) == ["token_revoked"] * (
        PRESENTATIONS - 1
    )
    assert session_of(tokens["refresh"]).revoked_at is not None
