"""Encoding and verifying the JSON Web Tokens of docs/sessions.md, with the keys of accounts.keys.

Two kinds of token belong to a login session, as Simple JWT has its token classes: ACCESS, sent
with every request, and REFRESH, traded once for a new pair. One TokenKind issues, signs and
verifies both; a kind is its `token_type` claim, its lifetime setting and what it names. A
verified token is a Claims object, never a dict to parse again.
"""

import base64
import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from django.conf import settings
from django.utils import timezone

from accounts.exceptions import Unauthenticated

REQUIRED_CLAIMS = ["exp", "iat", "jti", "token_type"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    jti: uuid.UUID
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Claims:
    """What a verified token says: whose it is, of which session, and when it was issued and expires."""

    token_type: str
    user_id: str
    session_id: uuid.UUID
    jti: uuid.UUID
    issued_at: datetime
    expires_at: datetime

    @classmethod
    def from_payload(cls, payload):
        """The claims of a verified payload, or None when one of ours would not look like it."""
        try:
            claims = cls(
                token_type=payload["token_type"],
                user_id=payload["user_id"],
                session_id=uuid.UUID(payload["sid"]),
                jti=uuid.UUID(payload["jti"]),
                issued_at=datetime.fromtimestamp(payload["iat"], UTC),
                expires_at=datetime.fromtimestamp(payload["exp"], UTC),
            )
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError):
            return None
        return claims if isinstance(claims.user_id, str) else None


@dataclass(frozen=True)
class TokenKind:
    token_type: str
    lifetime_setting: str  # the key of settings.JWT that holds its lifetime in seconds
    names_user: bool = False  # carries the username, for services that read the token alone

    def issue(self, user, session):
        """A new token of this kind for `session`; it never outlives the session."""
        # JWT times are whole seconds; truncating here keeps the stored and signed times equal.
        issued_at = timezone.now().replace(microsecond=0)
        lifetime = timedelta(seconds=settings.JWT[self.lifetime_setting])
        return self.sign(user, session, uuid.uuid4(), issued_at, min(issued_at + lifetime, session.expires_at))

    def sign(self, user, session, jti, issued_at, expires_at):
        """The token with these `jti`, `iat` and `exp`. Signing an earlier token's again gives its
        holder the same token (a retried refresh gets the answer it lost, not a second successor)."""
        config = settings.JWT
        payload = {
            "user_id": str(user.pk),
            **({"username": user.get_username()} if self.names_user else {}),
            "sid": str(session.id),
            "token_type": self.token_type,
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

    def decode(self, token):
        """The Claims of `token`, or Unauthenticated with reason expired or invalid.

        Only a genuine token of this kind is "expired": an expired access token given as a
        refresh token (or the other way round) is invalid, as it would be before it expired.
        """
        try:
            verified = _verified(token)
        except jwt.PyJWTError:
            raise Unauthenticated(Unauthenticated.INVALID) from None
        if verified.claims.token_type != self.token_type:
            raise Unauthenticated(Unauthenticated.INVALID)
        # PyJWT's rule for exp, without leeway.
        if verified.exp <= time.time():
            raise Unauthenticated(Unauthenticated.EXPIRED)
        return verified.claims


ACCESS = TokenKind("access", "ACCESS_TOKEN_LIFETIME", names_user=True)
REFRESH = TokenKind("refresh", "REFRESH_TOKEN_LIFETIME")


@dataclass(frozen=True, slots=True)
class _Verification:
    verified_against: tuple  # (key ring, issuer, audience)
    claims: Claims
    exp: int


# Tokens verified by this process, by token. A client sends the same access token with every
# request until it expires, and verifying it again (PyJWT checks each character of every segment
# in Python, then the HMAC) would give the same answer but for exp, which decode checks each
# time. Only tokens that verified are kept, so an unknown or forged token is verified every time.
# Bounded (about 1.5 KB a token): past VERIFIED_TOKENS_KEPT the oldest is dropped.
VERIFIED_TOKENS_KEPT = 1024
_verifications = {}


def _verified(token):
    """The _Verification of `token`: signature, algorithm, kid, iss, aud, iat, nbf and the claims'
    shape checked; PyJWTError when one is not as it must be."""
    config = settings.JWT
    against = (config["KEYS"], config["ISSUER"], config["AUDIENCE"])
    known = _verifications.get(token)
    if known is not None and known.verified_against[0] is against[0] and known.verified_against[1:] == against[1:]:
        return known
    payload = _verified_payload(token, _verifying_key(token))
    claims = Claims.from_payload(payload)
    if claims is None:
        raise jwt.InvalidTokenError("not a token of ours")
    try:
        exp = int(payload["exp"])
    except (TypeError, ValueError, OverflowError):
        raise jwt.DecodeError("exp is not an integer") from None
    verification = _Verification(verified_against=against, claims=claims, exp=exp)
    if len(_verifications) >= VERIFIED_TOKENS_KEPT:
        _verifications.pop(next(iter(_verifications)), None)
    _verifications[token] = verification
    return verification


def _verifying_key(token):
    """The configured key named by the token's `kid`; a token naming a retired or unknown key is invalid.

    Only the header segment is read here: jwt.get_unverified_header would decode and check every
    segment, which the verification that follows does again, header included (a third of a
    request's token check).
    """
    header_segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(header_segment + "=" * (-len(header_segment) % 4)))
    except (ValueError, RecursionError):  # not base64, not UTF-8, not JSON
        raise jwt.DecodeError("invalid header") from None
    if not isinstance(header, dict):
        raise jwt.DecodeError("invalid header")
    key = settings.JWT["KEYS"].verifying_key(header.get("kid"))
    if key is None:
        raise jwt.InvalidTokenError("unknown kid")
    return key


def _verified_payload(token, key):
    config = settings.JWT
    return jwt.decode(
        token,
        key.verifying,
        # Only the configured algorithm: never another family (an HMAC token "signed" with a
        # public key), never `none`.
        algorithms=[config["KEYS"].algorithm],
        issuer=config["ISSUER"],
        audience=config["AUDIENCE"],
        # exp is checked by decode on every use of a verified token (_verified).
        options={"require": REQUIRED_CLAIMS, "verify_exp": False},
    )
