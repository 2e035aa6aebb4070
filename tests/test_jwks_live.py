"""Another service verifies this server's tokens from its JWK Set, and keys rotate across restarts.

A real gunicorn process with production settings; the "other service" below uses PyJWT's
PyJWKClient and the server's address, and nothing else from this project.
"""

import urllib.request

import jwt
import pytest

from tests.keys_util import private_pem
from tests.live_server import GunicornServer

pytestmark = pytest.mark.slow

PASSWORD = "a long enough passphrase"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access refresh } }"
REFRESH = "mutation ($r: String!) { refreshToken(refresh: $r) { access refresh } }"
REVOKE = "mutation ($r: String!) { revokeToken(refresh: $r) { revoked } }"
ME = "{ me { username } }"


def rs256_server(folder, *key_names):
    return GunicornServer(folder, JWT_ALGORITHM="RS256", JWT_PRIVATE_KEYS=key_files(folder, *key_names))


def key_files(folder, *names):
    """JWT_PRIVATE_KEYS naming a file for each key, as an operator would configure them."""
    paths = []
    for name in names:
        path = folder / f"{name}.pem"
        path.write_text(private_pem("RSA-2048", name))
        paths.append(f"@{path}")
    return ",".join(paths)


def login(server):
    result = server.post(LOGIN, {"u": "alice", "p": PASSWORD})
    assert "errors" not in result, result
    return result["data"]["tokenAuth"]


def viewer_or_reason(server, access):
    result = server.post(ME, token=access)
    if "errors" in result:
        return result["errors"][0]["extensions"]["reason"]
    return result["data"]["me"]["username"]


def test_another_service_verifies_access_tokens_with_pyjwkclient_but_sees_revocation_only_at_exp(tmp_path):
    server = rs256_server(tmp_path, "A")
    server.create_user("alice", PASSWORD)
    server.start()
    try:
        tokens = login(server)
        jwks_url = f"{server.origin}/.well-known/jwks.json"
        with urllib.request.urlopen(jwks_url, timeout=30) as response:
            assert response.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")

        # What the other service runs: nothing from this project but the URL.
        signing_key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(tokens["access"])
        claims = jwt.decode(tokens["access"], signing_key.key, algorithms=["RS256"])
        assert claims["username"] == "alice" and claims["token_type"] == "access"

        assert server.post(REVOKE, {"r": tokens["refresh"]})["data"]["revokeToken"]["revoked"] is True
        assert viewer_or_reason(server, tokens["access"]) == "token_revoked"
        # The trade-off docs/keys.md states: the signature stays valid until `exp`.
        assert jwt.decode(tokens["access"], signing_key.key, algorithms=["RS256"])["username"] == "alice"
    finally:
        server.stop()


def test_a_key_rotated_in_across_restarts_keeps_old_tokens_until_the_old_key_is_removed(tmp_path):
    server = rs256_server(tmp_path, "A")
    server.create_user("alice", PASSWORD)
    server.start()
    try:
        signed_by_a = login(server)
    finally:
        server.stop()

    server.env["JWT_PRIVATE_KEYS"] = key_files(tmp_path, "B", "A")
    server.start()
    try:
        assert viewer_or_reason(server, signed_by_a["access"]) == "alice"
        signed_by_b = server.post(REFRESH, {"r": signed_by_a["refresh"]})["data"]["refreshToken"]
        published = jwt.PyJWKClient(f"{server.origin}/.well-known/jwks.json").get_signing_keys()
        kid_of_b = jwt.get_unverified_header(signed_by_b["access"])["kid"]
        kid_of_a = jwt.get_unverified_header(signed_by_a["access"])["kid"]
        assert [key.key_id for key in published] == [kid_of_b, kid_of_a]
    finally:
        server.stop()

    server.env["JWT_PRIVATE_KEYS"] = key_files(tmp_path, "B")
    server.start()
    try:
        assert viewer_or_reason(server, signed_by_a["access"]) == "token_invalid"
        assert viewer_or_reason(server, signed_by_b["access"]) == "alice"
    finally:
        server.stop()
