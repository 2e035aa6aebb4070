from cryptography.fernet import Fernet
from django.conf import settings
from django.core.management.base import BaseCommand

from accounts import crypto, totp


class Command(BaseCommand):
    help = (
        "Encrypt every stored secret (TOTP secrets) again with the first key of FIELD_ENCRYPTION_KEYS, "
        "so that an older key can then be removed. --new-key and --derived-key print a key and change nothing."
    )

    def add_arguments(self, parser):
        keys = parser.add_mutually_exclusive_group()
        keys.add_argument("--new-key", action="store_true", help="Print a new key for FIELD_ENCRYPTION_KEYS.")
        keys.add_argument(
            "--derived-key",
            action="store_true",
            help="Print the key derived from DJANGO_SECRET_KEY (what is used while FIELD_ENCRYPTION_KEYS is unset).",
        )

    def handle(self, *args, new_key=False, derived_key=False, **options):
        if new_key or derived_key:
            key = Fernet.generate_key().decode() if new_key else crypto.key_derived_from(settings.SECRET_KEY)
            self.stdout.write(key)
            return
        count = totp.reencrypt_secrets()
        self.stdout.write(f"Encrypted {count} TOTP secret(s) again with the first key of FIELD_ENCRYPTION_KEYS.")
