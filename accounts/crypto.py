"""Secrets the server must read back (TOTP secrets) are stored encrypted, so that a database
dump alone does not yield them.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) with the keys of
settings.FIELD_ENCRYPTION_KEYS: the first encrypts, every one decrypts (MultiFernet), so a key is
rotated in by putting it first and re-encrypting (`manage.py reencrypt_secrets`) before the old
one is removed. Secrets that are only ever compared (recovery codes, API keys) are hashed
instead (accounts/digests.py): nothing needs them back.
"""

import base64

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


def key_derived_from(secret_key):
    """The default key when FIELD_ENCRYPTION_KEYS is not set: HKDF of DJANGO_SECRET_KEY, so it is
    never the secret key itself, and changing the secret key changes it (see docs/security.md)."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"accounts.crypto field encryption")
    return base64.urlsafe_b64encode(derived.derive(secret_key.encode())).decode()


def checked_keys(keys, variable="FIELD_ENCRYPTION_KEYS"):
    """`keys` if each is a Fernet key (32 bytes, url-safe base64), else ImproperlyConfigured naming
    the position of the first that is not, never its value."""
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"{variable}: key {position} is not a Fernet key (32 bytes in url-safe base64; "
                "`python manage.py reencrypt_secrets --new-key` prints one)."
            ) from None
    if not keys:
        raise ImproperlyConfigured(f"{variable} names no key.")
    return list(keys)


def _fernet():
    return MultiFernet([Fernet(key) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(text):
    return _fernet().encrypt(text.encode()).decode()


def decrypt(token):
    """The text of `token`; cryptography's InvalidToken when no configured key encrypted it."""
    return _fernet().decrypt(token.encode()).decode()


def reencrypt(token):
    """`token` encrypted again with the first key (a no-op in meaning, a new ciphertext)."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token: encrypted on the way to the database, decrypted on the way back.

    The ciphertext differs at every save, so such a field can be written and read, never
    filtered on.
    """

    def from_db_value(self, value, expression, connection):
        return None if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return None if value is None else encrypt(value)
