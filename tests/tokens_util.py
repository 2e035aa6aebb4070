"""Forging tokens the way an attacker would, to prove the server refuses them."""

import base64
import json

import jwt
from django.conf import settings


def claims_of(token):
    return jwt.decode(token, options={"verify_signature": False})


def sign(claims, key=None, algorithm="HS256"):
    return jwt.encode(claims, key or settings.JWT["SIGNING_KEY"], algorithm=algorithm)


def _b64(data):
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned(claims):
    """A token with `alg: none` and no signature."""
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def with_payload(token, claims):
    """The original header and signature around a different payload."""
    header, _, signature = token.split(".")
    return f"{header}.{_b64(claims)}.{signature}"
