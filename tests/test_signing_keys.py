"""Signing with each algorithm, the published key set, key rotation and algorithm confusion (API.md section 15)."""

import base64
import hashlib
import hmac
import json

import jwt
import pytest

from accounts import keys
from tests.graphql_util import GraphQLClient, only_error
from tests.keys_util import KIND_FOR, configured, private_key, private_pem, public_pem
from tests.tokens_util import claims_of, sign, unsigned

ME = "{ me { username } }"
REFRESH = "mutation($r: String!) { refreshToken(refresh: $r) { access refresh } }"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
PUBLIC_MEMBERS = {
    "RS256": {"kty", "kid", "alg", "use", "n", "e"},
    "ES256": {"kty", "kid", "alg", "use", "crv", "x", "y"},
    "EdDSA": {"kty", "kid", "alg", "use", "crv", "x"},
}


def me(access):
    return GraphQLClient().authenticate(access).execute(ME)


def viewer(access):
    result = me(access)
    assert "errors" not in result, result
    return result["data"]["me"]["username"]


def rejection(access):
    error = only_error(me(access))
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    return error["extensions"]["reason"]


def refreshed(refresh):
    result = GraphQLClient().execute(REFRESH, {"r": refresh})
    assert "errors" not in result, result
    return result["data"]["refreshToken"]


def published_keys(client):
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "ES256", "EdDSA"])
def test_each_algorithm_signs_logs_in_and_refreshes_end_to_end(gql, alice, algorithm):
    with configured(algorithm, "A") as ring:
        tokens = gql.login("alice")
        header = jwt.get_unverified_header(tokens["access"])
        assert header["alg"] == algorithm and header["kid"] == ring.signing_key.kid
        assert viewer(tokens["access"]) == "alice"

        pair = refreshed(tokens["refresh"])
        assert jwt.get_unverified_header(pair["refresh"])["kid"] == ring.signing_key.kid
        assert viewer(pair["access"]) == "alice"


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_an_access_token_verifies_with_the_published_key_set_alone(gql, alice, algorithm):
    with configured(algorithm, "A"):
        access = gql.login("alice")["access"]
        key_set = jwt.PyJWKSet.from_dict(published_keys(gql.http).json())
    kid = jwt.get_unverified_header(access)["kid"]
    claims = jwt.decode(access, key_set[kid], algorithms=[algorithm])
    assert claims["username"] == "alice" and claims["token_type"] == "access"


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_the_key_set_publishes_every_public_key_and_no_private_member(client, algorithm):
    with configured(algorithm, "B", "A") as ring:
        response = published_keys(client)
    assert response["Content-Type"] == "application/json"
    assert sorted(response["Cache-Control"].split(", ")) == ["max-age=300", "public"]
    published = response.json()["keys"]
    assert [key["kid"] for key in published] == [key.kid for key in ring.keys]
    for key in published:
        assert set(key) == PUBLIC_MEMBERS[algorithm]
        assert not PRIVATE_MEMBERS & set(key)
        assert key["alg"] == algorithm and key["use"] == "sig"
        assert key["kid"] == keys.thumbprint(key)


def test_with_hmac_the_key_set_is_empty(client):
    with configured("HS256", "A") as ring:
        response = published_keys(client)
    assert response.json() == {"keys": []}
    assert ring.signing_key.signing not in response.content.decode()


def test_the_key_set_answers_reads_only(client):
    assert client.post("/.well-known/jwks.json").status_code == 405


def test_kid_is_the_rfc_7638_thumbprint():
    # RFC 7638 section 3.1's example key and its thumbprint.
    example = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",  # noqa: E501
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert keys.thumbprint(example) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "ES256", "EdDSA"])
def test_a_rotated_in_key_signs_while_the_old_one_still_verifies_until_removed(gql, alice, algorithm):
    with configured(algorithm, "A") as old_ring:
        old = gql.login("alice")
    with configured(algorithm, "B", "A") as rotated_ring:
        assert viewer(old["access"]) == "alice"
        pair = refreshed(old["refresh"])
        assert jwt.get_unverified_header(pair["access"])["kid"] == rotated_ring.signing_key.kid
        assert rotated_ring.signing_key.kid != old_ring.signing_key.kid
    with configured(algorithm, "B"):
        assert rejection(old["access"]) == "token_invalid"
        assert viewer(pair["access"]) == "alice"


def test_the_hmac_kid_does_not_reveal_the_secret():
    with configured("HS256", "A") as ring:
        secret = ring.signing_key.signing
        kid = ring.signing_key.kid
    assert secret not in kid
    unkeyed_digests = (hashlib.sha256(secret.encode()).digest(), hashlib.sha1(secret.encode()).digest())
    assert all(base64.urlsafe_b64encode(digest).rstrip(b"=").decode()[: len(kid)] != kid for digest in unkeyed_digests)


@pytest.fixture
def rs256_tokens(gql, alice):
    with configured("RS256", "A") as ring:
        yield ring, gql.login("alice")


def test_a_token_naming_an_unknown_kid_is_invalid(rs256_tokens):
    ring, tokens = rs256_tokens
    claims = claims_of(tokens["access"])
    assert rejection(sign(claims, kid="a-retired-key")) == "token_invalid"
    assert viewer(sign(claims)) == "alice"  # the same claims under the right kid


def test_a_token_without_kid_is_invalid(rs256_tokens):
    ring, tokens = rs256_tokens
    no_kid = jwt.encode(claims_of(tokens["access"]), ring.signing_key.signing, algorithm="RS256")
    assert rejection(no_kid) == "token_invalid"


def test_an_hmac_token_from_before_key_ids_verifies_against_the_first_key_only(gql, alice):
    """Tokens issued by the version before kids keep working after the upgrade; no other key vouches for them."""
    with configured("HS256", "A", "B") as ring:
        claims = claims_of(gql.login("alice")["access"])
        first, second = (key.signing for key in ring.keys)
        assert viewer(jwt.encode(claims, first, algorithm="HS256")) == "alice"
        assert rejection(jwt.encode(claims, second, algorithm="HS256")) == "token_invalid"


def test_a_token_signed_by_an_unconfigured_key_under_its_own_kid_is_invalid(rs256_tokens):
    _, tokens = rs256_tokens
    stranger = keys.private_key_ring("RS256", [private_pem("RSA-2048", "stranger")]).signing_key
    assert rejection(sign(claims_of(tokens["access"]), key=stranger.signing, kid=stranger.kid)) == "token_invalid"


def test_an_hmac_token_keyed_with_the_public_key_is_invalid(rs256_tokens):
    """The classic confusion: a verifier that lets the token pick HS256 would check it with the public key."""
    ring, tokens = rs256_tokens
    forged = _hmac_signed(claims_of(tokens["access"]), public_pem(KIND_FOR["RS256"], "A"), kid=ring.signing_key.kid)
    assert rejection(forged) == "token_invalid"


@pytest.mark.parametrize(("algorithm", "kind"), [("ES256", "P-256"), ("EdDSA", "Ed25519"), ("PS256", "RSA-2048")])
def test_a_token_of_another_asymmetric_algorithm_is_invalid(rs256_tokens, algorithm, kind):
    _, tokens = rs256_tokens
    # PS256 with the very key the server holds: right key, wrong algorithm.
    key = private_key(kind, "A")
    assert rejection(sign(claims_of(tokens["access"]), key=key, algorithm=algorithm)) == "token_invalid"


def test_alg_none_is_invalid_with_an_asymmetric_key(rs256_tokens):
    _, tokens = rs256_tokens
    assert rejection(unsigned(claims_of(tokens["access"]))) == "token_invalid"


def test_with_hmac_configured_an_rs256_token_is_invalid(gql, alice):
    with configured("HS256", "A"):
        tokens = gql.login("alice")
        forged = sign(claims_of(tokens["access"]), key=private_key("RSA-2048", "A"), algorithm="RS256")
        assert rejection(forged) == "token_invalid"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hmac_signed(claims, secret, kid):
    """HS256 by hand: PyJWT itself refuses a PEM as an HMAC secret, an attacker's code would not."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    payload = _b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"
