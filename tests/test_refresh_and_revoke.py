"""Session lifecycle: rotation, reuse detection, revocation (docs/sessions.md and docs/security.md)."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent, LoginSession
from tests.graphql_util import PASSWORD, GraphQLClient, error_codes, only_error
from tests.tokens_util import claims_of, sign

REFRESH = "mutation($r: String!) { refreshToken(refresh: $r) { access refresh user { username } } }"
REVOKE = "mutation($r: String!) { revokeToken(refresh: $r) { revoked } }"
REVOKE_ALL = "mutation { revokeAllTokens }"
CHANGE_PASSWORD = """
mutation($old: String!, $new: String!) {
  changePassword(oldPassword: $old, newPassword: $new) { access refresh user { username } }
}
"""
ME = "{ me { username } }"


def refresh(token):
    return GraphQLClient().execute(REFRESH, {"r": token})


def revoke(token):
    return GraphQLClient().execute(REVOKE, {"r": token})


def me(access):
    return GraphQLClient().authenticate(access).execute(ME)


def reason(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error["extensions"]["reason"]


@pytest.fixture
def tokens(gql, alice):
    return gql.login("alice")


def test_refresh_returns_a_new_pair_in_the_same_session(tokens):
    result = refresh(tokens["refresh"])

    pair = result["data"]["refreshToken"]
    assert pair["refresh"] != tokens["refresh"] and pair["access"] != tokens["access"]
    assert claims_of(pair["refresh"])["sid"] == claims_of(tokens["refresh"])["sid"]
    assert me(pair["access"])["data"]["me"]["username"] == "alice"
    assert refresh(pair["refresh"])["data"]["refreshToken"]["user"]["username"] == "alice"
    assert AuditEvent.objects.filter(type="TOKEN_REFRESH").count() == 2


def test_reusing_a_consumed_refresh_token_revokes_the_whole_session(tokens):
    # Once its successor was used, a consumed token has no retry grace (test_refresh_grace.py).
    successor = refresh(tokens["refresh"])["data"]["refreshToken"]
    newest = refresh(successor["refresh"])["data"]["refreshToken"]

    assert reason(refresh(tokens["refresh"])) == "token_revoked"
    assert reason(refresh(newest["refresh"])) == "token_revoked"
    assert reason(me(newest["access"])) == "token_revoked"
    assert reason(me(tokens["access"])) == "token_revoked"
    assert AuditEvent.objects.filter(type="TOKEN_REUSE_DETECTED", success=False).count() == 1


@override_settings(JWT={**settings.JWT, "REFRESH_GRACE_SECONDS": 0})
def test_reuse_in_one_session_leaves_other_sessions_alone(tokens, gql):
    other = gql.login("alice")
    refresh(tokens["refresh"])
    assert reason(refresh(tokens["refresh"])) == "token_revoked"
    assert me(other["access"])["data"]["me"]["username"] == "alice"


def test_expired_refresh_token_is_token_expired(tokens):
    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        assert reason(refresh(tokens["refresh"])) == "token_expired"


@pytest.mark.parametrize("kind", ["access token", "garbage", "forged", "unknown jti"])
def test_anything_but_a_genuine_refresh_token_is_invalid(tokens, kind):
    claims = claims_of(tokens["refresh"])
    token = {
        "access token": tokens["access"],
        "garbage": "garbage",
        "forged": sign(claims, key="not-the-server-key-" + "x" * 40),
        "unknown jti": sign({**claims, "jti": "0" * 32}),
    }[kind]
    assert reason(refresh(token)) == "token_invalid"


def test_revoke_token_ends_the_session(tokens):
    assert revoke(tokens["refresh"])["data"]["revokeToken"] == {"revoked": True}

    assert reason(refresh(tokens["refresh"])) == "token_revoked"
    assert reason(me(tokens["access"])) == "token_revoked"
    assert AuditEvent.objects.filter(type="TOKEN_REVOKED").count() == 1


def test_revoking_twice_answers_false(tokens):
    revoke(tokens["refresh"])
    assert revoke(tokens["refresh"])["data"]["revokeToken"] == {"revoked": False}


def test_revoking_an_expired_token_answers_false(tokens):
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert revoke(tokens["refresh"])["data"]["revokeToken"] == {"revoked": False}


@pytest.mark.parametrize("kind", ["access token", "garbage"])
def test_revoking_something_that_is_not_a_refresh_token_is_invalid(tokens, kind):
    token = tokens["access"] if kind == "access token" else "garbage"
    assert reason(revoke(token)) == "token_invalid"
    assert me(tokens["access"])["data"]["me"]["username"] == "alice"


def test_an_expired_access_token_is_not_an_expired_refresh_token(tokens):
    # Expired, but never a refresh token: not "token_expired" nor "revoked: false".
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert reason(refresh(tokens["access"])) == "token_invalid"
        assert reason(revoke(tokens["access"])) == "token_invalid"


def test_revoke_all_tokens_ends_every_session_of_the_viewer(tokens, gql, bob):
    second = gql.login("alice")
    bobs = gql.login("bob")

    result = GraphQLClient().authenticate(tokens["access"]).execute(REVOKE_ALL)

    assert result["data"]["revokeAllTokens"] == 2
    for pair in (tokens, second):
        assert reason(me(pair["access"])) == "token_revoked"
        assert reason(refresh(pair["refresh"])) == "token_revoked"
    assert me(bobs["access"])["data"]["me"]["username"] == "bob"
    assert AuditEvent.objects.filter(type="ALL_TOKENS_REVOKED").count() == 1


@pytest.mark.django_db
def test_revoke_all_tokens_needs_a_viewer():
    assert reason(GraphQLClient().execute(REVOKE_ALL)) == "missing_credentials"


def change_password(access, old, new):
    return GraphQLClient().authenticate(access).execute(CHANGE_PASSWORD, {"old": old, "new": new})


def test_change_password_revokes_other_sessions_and_returns_a_working_pair(tokens, gql, alice):
    other = gql.login("alice")
    new_password = "a brand new passphrase"

    pair = change_password(tokens["access"], PASSWORD, new_password)["data"]["changePassword"]

    assert me(pair["access"])["data"]["me"]["username"] == "alice"
    assert refresh(pair["refresh"])["data"]["refreshToken"]
    for old in (tokens, other):
        assert reason(me(old["access"])) == "token_revoked"
    alice.refresh_from_db()
    assert alice.check_password(new_password)
    assert AuditEvent.objects.filter(type="PASSWORD_CHANGED", user=alice).exists()


def test_change_password_with_a_wrong_old_password(tokens, alice):
    error = only_error(change_password(tokens["access"], "not my password", "a brand new passphrase"))

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fieldErrors"]) == ["oldPassword"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert me(tokens["access"])["data"]["me"]["username"] == "alice"


@pytest.mark.parametrize("weak", ["short", "12345678901", "password1", "alice-example"])
def test_change_password_to_a_weak_password(tokens, alice, weak):
    error = only_error(change_password(tokens["access"], PASSWORD, weak))

    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fieldErrors"]) == ["newPassword"]
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert LoginSession.objects.filter(revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_change_password_needs_a_viewer():
    assert reason(GraphQLClient().execute(CHANGE_PASSWORD, {"old": PASSWORD, "new": "x" * 12})) == "missing_credentials"


def test_guessing_the_old_password_is_rate_limited_like_logging_in(tokens, alice):
    for _ in range(4):  # the login of the `tokens` fixture was the first attempt of this window
        assert error_codes(change_password(tokens["access"], "a guess", "a brand new passphrase")) == ["BAD_USER_INPUT"]
    error = only_error(change_password(tokens["access"], PASSWORD, "a brand new passphrase"))
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] > 0
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


@pytest.mark.parametrize(
    "ending",
    [
        "revokeAllTokens",
        'changePassword(oldPassword: "%s", newPassword: "a brand new passphrase") { access }' % PASSWORD,
    ],
)
def test_fields_after_the_session_ends_in_the_same_document_do_not_run(tokens, alice, ending):
    document = 'mutation { first: %s then: createTask(input: {title: "after"}) { id } }' % ending
    result = GraphQLClient().authenticate(tokens["access"]).execute(document)

    error = only_error(result)  # createTask is non-null, so its error nulls the whole data
    assert error["path"] == ["then"]
    assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "token_revoked"}
    assert not alice.tasks.exists()
    assert not LoginSession.objects.filter(pk=claims_of(tokens["access"])["sid"], revoked_at__isnull=True).exists()


def test_logging_out_the_viewers_own_session_ends_it_for_the_rest_of_the_document(tokens, alice):
    document = 'mutation($r: String!) { revokeToken(refresh: $r) { revoked } createTask(input: {title: "x"}) { id } }'
    result = GraphQLClient().authenticate(tokens["access"]).execute(document, {"r": tokens["refresh"]})

    error = only_error(result)
    assert error["path"] == ["createTask"] and error["extensions"]["reason"] == "token_revoked"
    assert not alice.tasks.exists()
