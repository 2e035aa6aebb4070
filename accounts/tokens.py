"""Encoding and verifying the JSON Web Tokens of API.md section 1, with the keys of accounts.keys."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.utils import timezone

from accounts.exceptions import TokenRejected

ACCESS = "access"
REFRESH = "refresh"
REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: uuid.UUID
    issued_at: datetime
    expires_at: datetime


def _config():
    return settings.JWT


def _issue(token_type, lifetime_seconds, claims, not_after):
    # JWT times are whole seconds; truncating here keeps the stored and signed times equal.
    issued_at = timezone.now().replace(microsecond=0)
    expires_at = min(issued_at + timedelta(seconds=lifetime_seconds), not_after)
    return _signed(token_type, claims, uuid.uuid4(), issued_at, expires_at)


def _signed(token_type, claims, jti, issued_at, expires_at):
    config = _config()
    payload = {
        **claims,
        "token_type": token_type,
        "jti": jti.hex,
        "iat": issued_at,
        "exp": expires_at,
    }
    if config["ISSUER"]:
        payload["iss"] = config["ISSUER"]
    if config["AUDIENCE"]:
        payload["aud"] = config["AUDIENCE"]
    key_ring = config["KEYS"]
    signing_key = key_ring.signing_key
    token = jwt.encode(payload, signing_key.signing, algorithm=key_ring.algorithm, headers={"kid": signing_key.kid})
    return IssuedToken(token=token, jti=jti, issued_at=issued_at, expires_at=expires_at)


def issue_access(user, session):
    return _issue(
        ACCESS,
        _config()["ACCESS_TOKEN_LIFETIME"],
        {"user_id": str(user.pk), "username": user.get_username(), "sid": str(session.id)},
        not_after=session.expires_at,
    )


def _refresh_claims(user, session):
    return {"user_id": str(user.pk), "sid": str(session.id)}


def issue_refresh(user, session):
    return _issue(
        REFRESH, _config()["REFRESH_TOKEN_LIFETIME"], _refresh_claims(user, session), not_after=session.expires_at
    )


def reissue_refresh(user, session, jti, issued_at, expires_at):
    """The refresh token issued earlier with this `jti`, `iat` and `exp`, signed again: the same
    token to its holder (a retried refresh gets the answer it lost, not a second successor)."""
    return _signed(REFRESH, _refresh_claims(user, session), jti, issued_at, expires_at)


def decode(token, expected_type):
    """The verified claims of `token`, or TokenRejected with reason expired or invalid.

    Only a genuine token of the expected type is "expired": an expired access token given as
    a refresh token (or the other way round) is invalid, as it would be before it expired.
    """
    expired = False
    try:
        key = _verifying_key(token)
        try:
            claims = _verified_claims(token, key, verify_exp=True)
        except jwt.ExpiredSignatureError:
            claims, expired = _verified_claims(token, key, verify_exp=False), True
    except jwt.PyJWTError:
        raise TokenRejected(TokenRejected.INVALID) from None
    if claims.get("token_type") != expected_type or not _well_formed(claims):
        raise TokenRejected(TokenRejected.INVALID)
    if expired:
        raise TokenRejected(TokenRejected.EXPIRED)
    return claims


def _verifying_key(token):
    """The configured key named by the token's `kid`; a token naming a retired or unknown key is invalid."""
    key = _config()["KEYS"].verifying_key(jwt.get_unverified_header(token).get("kid"))
    if key is None:
        raise jwt.InvalidTokenError("unknown kid")
    return key


def _verified_claims(token, key, verify_exp):
    config = _config()
    return jwt.decode(
        token,
        key.verifying,
        # Only the configured algorithm: never another family (an HMAC token "signed" with a
        # public key), never `none`.
        algorithms=[config["KEYS"].algorithm],
        issuer=config["ISSUER"],
        audience=config["AUDIENCE"],
        options={"require": REQUIRED_CLAIMS, "verify_exp": verify_exp},
    )


def _well_formed(claims):
    try:
        uuid.UUID(claims["jti"])
        uuid.UUID(claims["sid"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return False
    return isinstance(claims.get("user_id"), str)
