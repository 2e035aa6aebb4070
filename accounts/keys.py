"""The keys that sign and verify tokens (docs/keys.md).

Loaded and checked once, when the settings are read, so a weak or mismatched key stops the
server at startup instead of failing logins later. Each key is named by a `kid` derived from
the key itself (never configured, so it cannot drift), and the public ones are published as a
JWK Set for other services. No error message ever contains key material.
"""

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from functools import partial

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from django.core.exceptions import ImproperlyConfigured

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256", "EdDSA")
ALGORITHMS = HMAC_ALGORITHMS + ASYMMETRIC_ALGORITHMS

MINIMUM_RSA_BITS = 2048
# What `generate_signing_key` makes: comfortably above the minimum for keys meant to last years.
GENERATED_RSA_BITS = 3072

# The public members of each key type, in RFC 7638's order: exactly what the JWK Set publishes
# (an allowlist, so no private member can slip through) and what the thumbprint hashes.
PUBLIC_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


class InvalidKey(ValueError):
    """A configured key the server must not use: `reason` says why, never what the key is."""

    def __init__(self, reason, position=None):
        super().__init__(reason if position is None else f"key {position} {reason}")
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class Key:
    kid: str
    signing: object  # the private key, or the HMAC secret
    verifying: object  # the public key, or the same HMAC secret
    public_jwk: dict | None  # what the JWK Set publishes; None for an HMAC secret, which is never published


@dataclass(frozen=True)
class KeyRing:
    """The configured algorithm and its keys: the first signs, every one verifies."""

    algorithm: str
    keys: tuple[Key, ...]

    @property
    def signing_key(self):
        return self.keys[0]

    def verifying_key(self, kid):
        if kid is None and self.algorithm in HMAC_ALGORITHMS:
            # Tokens issued before tokens carried a kid were HMAC-signed with the one signing key:
            # they stay valid after the upgrade (refresh tokens for up to their lifetime), so an
            # upgrade logs nobody out. Asymmetric tokens always carried a kid.
            return self.signing_key
        return next((key for key in self.keys if key.kid == kid), None)

    def jwks(self):
        return {"keys": [key.public_jwk for key in self.keys if key.public_jwk is not None]}


def configured_key_ring(
    algorithm, *, private_keys, signing_keys, signing_key, default_signing_key, minimum_secret_length
):
    """The ring the settings describe, or ImproperlyConfigured saying which variable is wrong and why.

    Only the variable of the algorithm's family may be set: a key of the other family would be
    ignored, which is a configuration mistake worth stopping for.
    """
    if algorithm in HMAC_ALGORITHMS:
        if private_keys:
            raise ImproperlyConfigured(
                f"JWT_PRIVATE_KEYS is set but JWT_ALGORITHM is {algorithm}, which signs with a shared secret: "
                "set JWT_ALGORITHM to RS256, ES256 or EdDSA, or unset JWT_PRIVATE_KEYS."
            )
        if signing_keys and signing_key:
            raise ImproperlyConfigured("Set JWT_SIGNING_KEYS or JWT_SIGNING_KEY, not both.")
        variable = "JWT_SIGNING_KEYS" if signing_keys else "JWT_SIGNING_KEY"
        secret_keys = signing_keys or [signing_key or default_signing_key]
        load = partial(hmac_key_ring, algorithm, secret_keys, minimum_secret_length)
    else:
        if signing_keys or signing_key:
            raise ImproperlyConfigured(
                f"JWT_ALGORITHM is {algorithm}, which signs with JWT_PRIVATE_KEYS: "
                "unset JWT_SIGNING_KEY and JWT_SIGNING_KEYS (HMAC secrets are not used)."
            )
        if not private_keys:
            raise ImproperlyConfigured(
                f"JWT_ALGORITHM is {algorithm}: set JWT_PRIVATE_KEYS to a PEM private key or @/path/to/key.pem "
                "(docs/keys.md says how to make one)."
            )
        variable = "JWT_PRIVATE_KEYS"
        load = partial(private_key_ring, algorithm, private_keys)
    try:
        return load()
    except InvalidKey as error:
        if variable == "JWT_SIGNING_KEY":  # one key: its position says nothing
            raise ImproperlyConfigured(f"{variable} {error.reason}.") from None
        raise ImproperlyConfigured(f"{variable}: {error}.") from None


def hmac_key_ring(algorithm, secret_keys, minimum_length=0):
    """A ring of HMAC secrets, each at least `minimum_length` characters."""
    if algorithm not in HMAC_ALGORITHMS:
        raise ValueError(f"{algorithm} is not an HMAC algorithm")
    for position, secret in enumerate(secret_keys, start=1):
        if len(secret) < minimum_length:
            raise InvalidKey(f"must be at least {minimum_length} characters", position)
    return _ring(algorithm, [Key(_hmac_kid(secret), secret, secret, None) for secret in secret_keys])


def private_key_ring(algorithm, pems):
    """A ring of PEM private keys, each of the kind and strength `algorithm` needs."""
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        raise ValueError(f"{algorithm} does not sign with a private key")
    keys = []
    for position, pem in enumerate(pems, start=1):
        try:
            private_key = _load_private_key(pem)
            _check_suits(algorithm, private_key)
        except InvalidKey as error:
            raise InvalidKey(error.reason, position) from None
        keys.append(_asymmetric_key(algorithm, private_key))
    return _ring(algorithm, keys)


def _ring(algorithm, keys):
    if not keys:
        raise ValueError("a key ring needs at least one key")
    positions = {}
    for position, key in enumerate(keys, start=1):
        if key.kid in positions:
            raise InvalidKey(f"repeats key {positions[key.kid]}", position)
        positions[key.kid] = position
    return KeyRing(algorithm, tuple(keys))


def _load_private_key(pem):
    data = pem.strip().encode()
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InvalidKey("is encrypted with a passphrase: give it unencrypted and protect the file instead") from None
    except (ValueError, UnsupportedAlgorithm):
        pass
    try:
        serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise InvalidKey("is not a PEM private key (it does not parse)") from None
    raise InvalidKey("is a public key: the server signs, so it needs the private key")


def _check_suits(algorithm, private_key):
    if algorithm == "RS256":
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise InvalidKey(f"is {_describe(private_key)}; RS256 needs an RSA key")
        if private_key.key_size < MINIMUM_RSA_BITS:
            raise InvalidKey(f"is {_describe(private_key)}; RS256 needs at least {MINIMUM_RSA_BITS} bits")
    elif algorithm == "ES256":
        if not (isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, ec.SECP256R1)):
            raise InvalidKey(f"is {_describe(private_key)}; ES256 needs an EC key on P-256")
    elif not isinstance(private_key, ed25519.Ed25519PrivateKey):
        raise InvalidKey(f"is {_describe(private_key)}; EdDSA needs an Ed25519 key")


def _describe(private_key):
    if isinstance(private_key, rsa.RSAPrivateKey):
        return f"an RSA key of {private_key.key_size} bits"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return f"an EC key on {private_key.curve.name}"
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "an Ed25519 key"
    if isinstance(private_key, ed448.Ed448PrivateKey):
        return "an Ed448 key"
    return f"a {type(private_key).__name__}"


def _asymmetric_key(algorithm, private_key):
    public_key = private_key.public_key()
    jwk = jwt.get_algorithm_by_name(algorithm).to_jwk(public_key, as_dict=True)
    public_members = {name: jwk[name] for name in PUBLIC_MEMBERS[jwk["kty"]]}
    kid = thumbprint(public_members)
    return Key(kid, private_key, public_key, {**public_members, "kid": kid, "alg": algorithm, "use": "sig"})


def thumbprint(jwk):
    """The RFC 7638 SHA-256 thumbprint of a public JWK: stable, and the same any library computes."""
    required = {name: jwk[name] for name in PUBLIC_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(required, sort_keys=True, separators=(",", ":"))
    return _base64url(hashlib.sha256(canonical.encode()).digest())


def _hmac_kid(secret):
    # Keyed, so the id tells nothing about the secret that a token's own signature does not.
    return _base64url(hmac.new(secret.encode(), b"kid", hashlib.sha256).digest()[:12])


def _base64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


NEW_PRIVATE_KEY = {
    "RS256": lambda: rsa.generate_private_key(public_exponent=65537, key_size=GENERATED_RSA_BITS),
    "ES256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "EdDSA": ed25519.Ed25519PrivateKey.generate,
}


def generate(algorithm):
    """A new key for `algorithm` in the form the settings read: PEM (PKCS#8) text, or an HMAC secret."""
    if algorithm in HMAC_ALGORITHMS:
        return secrets.token_urlsafe(64)  # 64 random bytes: as long as HS512's hash
    return (
        NEW_PRIVATE_KEY[algorithm]()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
