"""accounts.tokens below HTTP: what a token of each kind claims, and every way decoding refuses one."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from accounts import tokens
from accounts.exceptions import Unauthenticated
from accounts.keys import hmac_key_ring
from tests.tokens_util import claims_of, sign, with_payload

ACCESS_LIFETIME = timedelta(seconds=settings.JWT["ACCESS_TOKEN_LIFETIME"])


def session(expires_in=timedelta(days=30)):
    return SimpleNamespace(id=uuid.uuid4(), expires_at=timezone.now().replace(microsecond=0) + expires_in)


def user(pk=7, username="alice"):
    return SimpleNamespace(pk=pk, get_username=lambda: username)


def refusal(kind, token):
    with pytest.raises(Unauthenticated) as refused:
        kind.decode(token)
    return refused.value.reason


def test_a_token_decodes_to_typed_claims_of_its_user_and_session():
    login = session()
    issued = tokens.ACCESS.issue(user(), login)
    claims = tokens.ACCESS.decode(issued.token)
    assert claims == tokens.Claims(
        token_type="access",
        user_id="7",
        session_id=login.id,
        jti=issued.jti,
        issued_at=issued.issued_at,
        expires_at=issued.issued_at + ACCESS_LIFETIME,
    )
    assert issued.expires_at == claims.expires_at


def test_only_the_access_token_names_the_user():
    login = session()
    assert claims_of(tokens.ACCESS.issue(user(), login).token)["username"] == "alice"
    assert "username" not in claims_of(tokens.REFRESH.issue(user(), login).token)


def test_a_token_never_outlives_its_session():
    login = session(expires_in=timedelta(seconds=30))
    assert tokens.ACCESS.issue(user(), login).expires_at == login.expires_at
    assert tokens.REFRESH.issue(user(), login).expires_at == login.expires_at


def test_kinds_do_not_mix():
    login = session()
    assert refusal(tokens.ACCESS, tokens.REFRESH.issue(user(), login).token) == Unauthenticated.INVALID
    assert refusal(tokens.REFRESH, tokens.ACCESS.issue(user(), login).token) == Unauthenticated.INVALID


def test_only_a_genuine_token_of_the_kind_expires():
    login = session()
    access = tokens.ACCESS.issue(user(), login).token
    with time_machine.travel(timezone.now() + ACCESS_LIFETIME + timedelta(seconds=5)):
        assert refusal(tokens.ACCESS, access) == Unauthenticated.EXPIRED
        assert refusal(tokens.REFRESH, access) == Unauthenticated.INVALID


def test_signing_a_token_again_gives_the_same_token():
    login = session()
    issued = tokens.REFRESH.issue(user(), login)
    again = tokens.REFRESH.sign(user(), login, issued.jti, issued.issued_at, issued.expires_at)
    assert again == issued


def test_a_tampered_token_is_invalid():
    token = tokens.ACCESS.issue(user(), session()).token
    assert refusal(tokens.ACCESS, with_payload(token, {**claims_of(token), "user_id": "8"})) == Unauthenticated.INVALID
    assert refusal(tokens.ACCESS, "not.a.token") == Unauthenticated.INVALID


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_under_header(header_segment, claims):
    """`claims` signed with the server's HMAC key under a header segment of our choosing (PyJWT
    itself refuses to write a header with a kid that is not a string)."""
    payload = _b64(json.dumps(claims).encode())
    secret = settings.JWT["KEYS"].signing_key.signing
    signature = hmac.new(secret.encode(), f"{header_segment}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header_segment}.{payload}.{_b64(signature)}"


@pytest.mark.parametrize(
    "header_segment",
    [
        _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": None}).encode()),
        _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": ["a"]}).encode()),
        _b64(json.dumps(["alg", "HS256"]).encode()),
        _b64(b'{"alg": "HS256", "kid": '),
        _b64(b"\xff\xfe"),
        "*not base64*",
        "",
    ],
    ids=["null kid", "list kid", "not an object", "not JSON", "not UTF-8", "not base64", "empty"],
)
def test_a_token_whose_header_is_not_a_jwt_header_is_invalid(header_segment):
    """The key is picked from the header before PyJWT verifies the token; a header it cannot read
    is invalid, and so is one PyJWT would refuse even under the right signature."""
    assert settings.JWT["KEYS"].algorithm == "HS256"
    claims = claims_of(tokens.ACCESS.issue(user(), session()).token)
    assert refusal(tokens.ACCESS, signed_under_header(header_segment, claims)) == Unauthenticated.INVALID


@pytest.mark.parametrize(
    "change",
    [{"sid": "not a uuid"}, {"jti": 12}, {"user_id": 7}, {"sid": None}],
    ids=["sid", "jti", "user_id", "no sid"],
)
def test_a_signed_token_that_is_not_shaped_like_ours_is_invalid(change):
    claims = {**claims_of(tokens.ACCESS.issue(user(), session()).token), **change}
    claims = {name: value for name, value in claims.items() if value is not None}
    assert refusal(tokens.ACCESS, sign(claims)) == Unauthenticated.INVALID


def test_a_token_is_verified_once_and_still_expires(monkeypatch):
    """A verified token is kept (accounts.tokens._verified): PyJWT does not verify it again, but
    its exp is checked on every use."""
    issued = tokens.ACCESS.issue(user(), session())
    verifications = []
    verify = tokens.jwt.decode
    monkeypatch.setattr(
        tokens.jwt, "decode", lambda *args, **kwargs: verifications.append(1) or verify(*args, **kwargs)
    )
    assert tokens.ACCESS.decode(issued.token) == tokens.ACCESS.decode(issued.token)
    assert len(verifications) == 1
    assert refusal(tokens.REFRESH, issued.token) == Unauthenticated.INVALID
    with time_machine.travel(issued.expires_at):
        assert refusal(tokens.ACCESS, issued.token) == Unauthenticated.EXPIRED
    with time_machine.travel(issued.expires_at - timedelta(seconds=1)):
        assert tokens.ACCESS.decode(issued.token).jti == issued.jti
    assert len(verifications) == 1
    forged = with_payload(issued.token, {**claims_of(issued.token), "user_id": "8"})
    verifications.clear()
    assert refusal(tokens.ACCESS, forged) == refusal(tokens.ACCESS, forged) == Unauthenticated.INVALID
    assert len(verifications) == 2, "a token that did not verify is verified again"


def test_a_kept_token_is_refused_once_its_key_is_retired(settings):
    token = tokens.ACCESS.issue(user(), session()).token
    tokens.ACCESS.decode(token)
    settings.JWT = {**settings.JWT, "KEYS": hmac_key_ring("HS256", ["a newer secret key " + "n" * 40])}
    assert refusal(tokens.ACCESS, token) == Unauthenticated.INVALID
    settings.JWT = {**settings.JWT, "ISSUER": "another issuer"}
    assert refusal(tokens.ACCESS, token) == Unauthenticated.INVALID


def test_the_tokens_kept_are_bounded():
    login = session()
    for _ in range(tokens.VERIFIED_TOKENS_KEPT + 10):
        tokens.ACCESS.decode(tokens.ACCESS.issue(user(), login).token)
    assert len(tokens._verifications) == tokens.VERIFIED_TOKENS_KEPT
