"""Who `me` sees for every kind of credential (API.md section 1)."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from tests.graphql_util import GraphQLClient, only_error
from tests.tokens_util import claims_of, sign, unsigned, with_payload

ME = "{ me { id username email } }"


def me_with(token=None, header=None):
    client = GraphQLClient()
    if header is not None:
        client.headers = {"HTTP_AUTHORIZATION": header}
    elif token is not None:
        client.authenticate(token)
    return client.execute(ME)


def rejection(result):
    error = only_error(result)
    assert result["data"] is None
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error["extensions"]["reason"]


@pytest.fixture
def tokens(gql, alice):
    return gql.login("alice")


@pytest.mark.django_db
def test_anonymous_me_is_unauthenticated_with_missing_credentials():
    assert rejection(me_with()) == "missing_credentials"


def test_valid_access_token_makes_its_user_the_viewer(tokens, alice):
    result = me_with(tokens["access"])
    assert result["data"]["me"] == {"id": tokens["user"]["id"], "username": "alice", "email": alice.email}


def test_access_token_carries_the_contract_claims(tokens, alice):
    access, refresh = claims_of(tokens["access"]), claims_of(tokens["refresh"])

    assert access["token_type"] == "access"
    assert access["user_id"] == str(alice.pk) and access["username"] == "alice"
    assert access["exp"] - access["iat"] == 300
    assert refresh["token_type"] == "refresh"
    assert refresh["user_id"] == str(alice.pk) and "username" not in refresh
    assert refresh["exp"] - refresh["iat"] == 86400
    assert access["sid"] == refresh["sid"]
    assert access["jti"] != refresh["jti"]


def test_expired_access_token_is_token_expired(tokens):
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        assert rejection(me_with(tokens["access"])) == "token_expired"


def test_expired_refresh_token_as_bearer_is_token_invalid(tokens):
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        assert rejection(me_with(tokens["refresh"])) == "token_invalid"


def test_access_token_still_works_just_before_expiry(tokens):
    with time_machine.travel(timezone.now() + timedelta(seconds=290)):
        assert me_with(tokens["access"])["data"]["me"]["username"] == "alice"


def test_token_signed_with_another_key_is_invalid(tokens):
    forged = sign(claims_of(tokens["access"]), key="another-key-" + "k" * 40)
    assert rejection(me_with(forged)) == "token_invalid"


def test_alg_none_is_invalid(tokens):
    assert rejection(me_with(unsigned(claims_of(tokens["access"])))) == "token_invalid"


def test_tampered_payload_is_invalid(tokens, bob):
    claims = {**claims_of(tokens["access"]), "user_id": str(bob.pk), "username": "bob"}
    assert rejection(me_with(with_payload(tokens["access"], claims))) == "token_invalid"


def test_refresh_token_is_not_an_access_token(tokens):
    assert rejection(me_with(tokens["refresh"])) == "token_invalid"


@pytest.mark.parametrize("missing", ["exp", "iat", "jti", "token_type"])
def test_token_without_a_required_claim_is_invalid(tokens, missing):
    claims = claims_of(tokens["access"])
    del claims[missing]
    assert rejection(me_with(sign(claims))) == "token_invalid"


def test_correctly_signed_token_for_an_unknown_session_is_invalid(tokens):
    claims = {**claims_of(tokens["access"]), "sid": "00000000-0000-0000-0000-000000000000"}
    assert rejection(me_with(sign(claims))) == "token_invalid"


@pytest.mark.parametrize("header", ["Basic YWxpY2U6cGFzcw==", "Bearer", "Bearer not.a.jwt", "garbage"])
@pytest.mark.django_db
def test_malformed_authorization_header_is_invalid_not_anonymous(header):
    assert rejection(me_with(header=header)) == "token_invalid"


def test_access_token_of_a_revoked_session_is_refused_at_once(tokens):
    gql = GraphQLClient()
    gql.execute("mutation($r: String!) { revokeToken(refresh: $r) { revoked } }", {"r": tokens["refresh"]})
    assert rejection(me_with(tokens["access"])) == "token_revoked"


def test_token_of_a_deactivated_user_is_refused(tokens, alice):
    alice.is_active = False
    alice.save()
    assert rejection(me_with(tokens["access"])) == "token_revoked"
    assert not alice.login_sessions.filter(revoked_at__isnull=True).exists()


def test_bad_credential_does_not_block_public_fields(tokens):
    client = GraphQLClient().authenticate("not-a-token")
    result = client.execute('mutation { tokenAuth(username: "alice", password: "wrong") { access } }')
    assert only_error(result)["extensions"]["code"] == "INVALID_CREDENTIALS"


@pytest.mark.django_db
def test_issuer_and_audience_are_set_and_checked_when_configured(gql, alice):
    jwt_settings = {"ISSUER": "https://auth.example.com", "AUDIENCE": "tasks-api"}
    from django.conf import settings

    with override_settings(JWT={**settings.JWT, **jwt_settings}):
        tokens = gql.login("alice")
        claims = claims_of(tokens["access"])
        assert claims["iss"] == "https://auth.example.com" and claims["aud"] == "tasks-api"
        assert me_with(tokens["access"])["data"]["me"]["username"] == "alice"
        wrong_audience = sign({**claims, "aud": "another-api"})
        assert rejection(me_with(wrong_audience)) == "token_invalid"
        no_issuer = {key: value for key, value in claims.items() if key != "iss"}
        assert rejection(me_with(sign(no_issuer))) == "token_invalid"
    # A token minted for an audience is refused by a server that expects none.
    assert rejection(me_with(tokens["access"])) == "token_invalid"
