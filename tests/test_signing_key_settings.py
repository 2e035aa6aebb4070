"""The settings load token keys from the environment and refuse, at startup, any they must not sign with.

Each case runs project/settings.py afresh with the given environment, as a starting server would;
tests/test_settings.py checks that `manage.py` really stops on such a refusal.
"""

import os
import runpy

import pytest
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from tests.keys_util import private_key, private_pem, public_pem

SETTINGS_FILE = str(settings.BASE_DIR / "project" / "settings.py")
SECRET_KEY = "a-production-secret-that-is-long-and-random-0123456789abcdef"


def settings_with(monkeypatch, **environment):
    """The settings module's names, read with `environment` (and no other JWT_ variable) set."""
    for name in os.environ:
        if name.startswith("JWT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.setenv("DJANGO_SECRET_KEY", SECRET_KEY)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(SETTINGS_FILE)


def refusal(monkeypatch, **environment):
    with pytest.raises(ImproperlyConfigured) as refused:
        settings_with(monkeypatch, **environment)
    message = str(refused.value)
    for value in environment.values():
        if "PRIVATE KEY" in value:
            assert value.split("\n")[1] not in message  # no key material in the message
    return message


def key_file(folder, kind, name="A"):
    path = folder / f"{kind}-{name}.pem"
    path.write_text(private_pem(kind, name))
    return f"@{path}"


@pytest.mark.parametrize(
    ("algorithm", "kind", "complaint"),
    [
        ("RS256", "RSA-1024", "key 1 is an RSA key of 1024 bits; RS256 needs at least 2048 bits"),
        ("RS256", "Ed25519", "key 1 is an Ed25519 key; RS256 needs an RSA key"),
        ("ES256", "P-384", "key 1 is an EC key on secp384r1; ES256 needs an EC key on P-256"),
        ("ES256", "RSA-2048", "key 1 is an RSA key of 2048 bits; ES256 needs an EC key on P-256"),
        ("EdDSA", "Ed448", "key 1 is an Ed448 key; EdDSA needs an Ed25519 key"),
        ("EdDSA", "P-256", "key 1 is an EC key on secp256r1; EdDSA needs an Ed25519 key"),
    ],
)
def test_a_weak_or_mismatched_private_key_is_refused(monkeypatch, algorithm, kind, complaint):
    message = refusal(monkeypatch, JWT_ALGORITHM=algorithm, JWT_PRIVATE_KEYS=private_pem(kind))
    assert message == f"JWT_PRIVATE_KEYS: {complaint}."


def test_the_refusal_names_which_key_is_wrong(monkeypatch, tmp_path):
    configured = f"{key_file(tmp_path, 'P-256')},{key_file(tmp_path, 'P-384')}"
    message = refusal(monkeypatch, JWT_ALGORITHM="ES256", JWT_PRIVATE_KEYS=configured)
    assert message.startswith("JWT_PRIVATE_KEYS: key 2 is an EC key on secp384r1")


def test_a_public_key_is_refused(monkeypatch):
    message = refusal(monkeypatch, JWT_ALGORITHM="RS256", JWT_PRIVATE_KEYS=public_pem("RSA-2048"))
    assert message == "JWT_PRIVATE_KEYS: key 1 is a public key: the server signs, so it needs the private key."


@pytest.mark.parametrize(
    "text", ["not a key at all", "-----BEGIN PRIVATE KEY-----\nAAAAnotDER\n-----END PRIVATE KEY-----"]
)
def test_pem_that_does_not_parse_is_refused(monkeypatch, text):
    message = refusal(monkeypatch, JWT_ALGORITHM="EdDSA", JWT_PRIVATE_KEYS=text)
    assert message == "JWT_PRIVATE_KEYS: key 1 is not a PEM private key (it does not parse)."
    assert "AAAAnotDER" not in message


def test_a_passphrase_protected_key_is_refused(monkeypatch):
    encrypted = private_key("P-256").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")
    )
    message = refusal(monkeypatch, JWT_ALGORITHM="ES256", JWT_PRIVATE_KEYS=encrypted.decode())
    assert message.startswith("JWT_PRIVATE_KEYS: key 1 is encrypted with a passphrase")


def test_a_key_file_that_cannot_be_read_is_refused(monkeypatch, tmp_path):
    message = refusal(monkeypatch, JWT_ALGORITHM="ES256", JWT_PRIVATE_KEYS=f"@{tmp_path / 'missing.pem'}")
    assert message == f"JWT_PRIVATE_KEYS: cannot read {tmp_path / 'missing.pem'}: No such file or directory"


def test_the_same_key_twice_is_refused(monkeypatch, tmp_path):
    configured = f"{key_file(tmp_path, 'P-256')},{key_file(tmp_path, 'P-256')}"
    assert refusal(monkeypatch, JWT_ALGORITHM="ES256", JWT_PRIVATE_KEYS=configured) == (
        "JWT_PRIVATE_KEYS: key 2 repeats key 1."
    )


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_an_asymmetric_algorithm_without_private_keys_is_refused(monkeypatch, algorithm):
    message = refusal(monkeypatch, JWT_ALGORITHM=algorithm)
    assert message.startswith(f"JWT_ALGORITHM is {algorithm}: set JWT_PRIVATE_KEYS to a PEM private key")


@pytest.mark.parametrize("variable", ["JWT_SIGNING_KEY", "JWT_SIGNING_KEYS"])
def test_an_hmac_secret_with_an_asymmetric_algorithm_is_refused(monkeypatch, variable):
    environment = {"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEYS": private_pem("Ed25519"), variable: "s" * 40}
    assert refusal(monkeypatch, **environment).startswith(
        "JWT_ALGORITHM is EdDSA, which signs with JWT_PRIVATE_KEYS: unset JWT_SIGNING_KEY and JWT_SIGNING_KEYS"
    )


def test_private_keys_with_an_hmac_algorithm_are_refused(monkeypatch):
    message = refusal(monkeypatch, JWT_ALGORITHM="HS256", JWT_PRIVATE_KEYS=private_pem("RSA-2048"))
    assert message.startswith("JWT_PRIVATE_KEYS is set but JWT_ALGORITHM is HS256")


def test_a_short_hmac_key_among_several_is_refused_outside_debug(monkeypatch):
    message = refusal(monkeypatch, JWT_SIGNING_KEYS=f"{'n' * 40},short")
    assert message == "JWT_SIGNING_KEYS: key 2 must be at least 32 characters."


def test_short_hmac_keys_are_allowed_in_debug(monkeypatch):
    names = settings_with(monkeypatch, DJANGO_DEBUG="1", JWT_SIGNING_KEYS="short,other")
    assert [key.signing for key in names["JWT"]["KEYS"].keys] == ["short", "other"]


def test_both_hmac_variables_at_once_are_refused(monkeypatch):
    message = refusal(monkeypatch, JWT_SIGNING_KEY="k" * 40, JWT_SIGNING_KEYS="n" * 40)
    assert message == "Set JWT_SIGNING_KEYS or JWT_SIGNING_KEY, not both."


def test_jwt_signing_keys_are_read_in_order_first_signing(monkeypatch):
    ring = settings_with(monkeypatch, JWT_SIGNING_KEYS=f"{'n' * 40}, {'o' * 40}")["JWT"]["KEYS"]
    assert ring.algorithm == "HS256"
    assert [key.signing for key in ring.keys] == ["n" * 40, "o" * 40]
    assert ring.signing_key.signing == "n" * 40


def test_the_single_hmac_key_defaults_to_the_django_secret_key(monkeypatch):
    ring = settings_with(monkeypatch)["JWT"]["KEYS"]
    assert [key.signing for key in ring.keys] == [SECRET_KEY]
    assert settings_with(monkeypatch, JWT_SIGNING_KEY="k" * 40)["JWT"]["KEYS"].signing_key.signing == "k" * 40


def test_private_keys_are_read_from_files_and_pem_text_in_order(monkeypatch, tmp_path):
    configured = f"{key_file(tmp_path, 'RSA-2048', 'B')},{private_pem('RSA-2048', 'A')}"
    ring = settings_with(monkeypatch, JWT_ALGORITHM="RS256", JWT_PRIVATE_KEYS=configured)["JWT"]["KEYS"]
    expected = [private_key("RSA-2048", name).public_key().public_numbers() for name in ("B", "A")]
    assert [key.verifying.public_numbers() for key in ring.keys] == expected
