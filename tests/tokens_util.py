"""Forging tokens the way an attacker would, to prove the server refuses them."""

import base64
import json

import jwt
from django.conf import settings


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def sign(claims, key=None, algorithm=None, kid=None):
    """`claims` signed as the server signs; with another key or algorithm, still under the server's
    `kid`, so that only the signature (or the algorithm) is wrong."""
    key_ring = settings.JWT["KEYS"]
    signing_key = key_ring.signing_key
    return jwt.encode(
        claims,
        key or signing_key.signing,
        algorithm=algorithm or key_ring.algorithm,
        headers={"kid": kid or signing_key.kid},
    )


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(claims):
    """A token with `alg: none`, the server's `kid` and no signature."""
    header = {"alg": "none", "typ": "JWT", "kid": settings.JWT["KEYS"].signing_key.kid}
    return f"{_b64(header)}.{_b64(claims)}."


def with_payload(token, claims):
    """The original header and signature around a different payload."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64(claims)}.{signature}"
