"""Private keys made once per test process, and key rings built from them the way the settings build them."""

import functools
from contextlib import contextmanager

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from django.conf import settings
from django.test import override_settings

from accounts import keys

NEW_KEY = {
    "RSA-2048": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "RSA-1024": lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
    "P-256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "P-384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "Ed25519": ed25519.Ed25519PrivateKey.generate,
    "Ed448": ed448.Ed448PrivateKey.generate,
}
# The kind of key each asymmetric algorithm signs with.
KIND_FOR = {"RS256": "RSA-2048", "ES256": "P-256", "EdDSA": "Ed25519"}
HMAC_SECRET = "a-shared-hmac-secret-that-is-long-enough-{}"


@functools.cache
def private_key(kind, name="A"):
    """The private key object `name` of `kind`: the same one every time in a process."""
    return NEW_KEY[kind]()


def private_pem(kind, name="A"):
    return (
        private_key(kind, name)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )


def public_pem(kind, name="A"):
    return (
        private_key(kind, name)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_ring(algorithm, *names):
    """The ring of keys `names` (A, B, ...) for `algorithm`, first one signing."""
    if algorithm in keys.HMAC_ALGORITHMS:
        return keys.hmac_key_ring(algorithm, [HMAC_SECRET.format(name) for name in names])
    return keys.private_key_ring(algorithm, [private_pem(KIND_FOR[algorithm], name) for name in names])


@contextmanager
def configured(algorithm, *names):
    """Run as a server configured with these keys (as after a restart with them)."""
    ring = key_ring(algorithm, *names)
    with override_settings(JWT={**settings.JWT, "KEYS": ring}):
        yield ring
