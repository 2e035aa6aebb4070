import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import keys


class Command(BaseCommand):
    help = (
        "Make a new token signing key: a PEM private key for JWT_PRIVATE_KEYS (RS256, ES256, EdDSA) "
        "or a secret for JWT_SIGNING_KEYS (HS256, HS384, HS512). It is printed, or written to a new "
        "file only its owner can read; notes go to stderr, so `> key.pem` captures the key alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", choices=keys.ALGORITHMS, help="default: the configured JWT_ALGORITHM")
        parser.add_argument("--output", help="a new file to write the key to, with mode 0600 (never overwritten)")

    def handle(self, *args, algorithm=None, output=None, **options):
        algorithm = algorithm or settings.JWT["KEYS"].algorithm
        key = keys.generate(algorithm)
        if algorithm in keys.HMAC_ALGORITHMS:
            kid, variable = keys.hmac_key_ring(algorithm, [key]).signing_key.kid, "JWT_SIGNING_KEYS"
        else:
            kid, variable = keys.private_key_ring(algorithm, [key]).signing_key.kid, "JWT_PRIVATE_KEYS"
        if output:
            write_private_file(output, key)
            self.stderr.write(f"Wrote a new {algorithm} key to {output} (mode 0600).")
        else:
            self.stdout.write(key.rstrip("\n"))
        self.stderr.write(
            f"Its kid is {kid}. Add it to {variable} after the key that signs now, then follow docs/keys.md."
        )


def write_private_file(path, text):
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} already exists: an existing key is never overwritten.") from None
    except OSError as error:
        raise CommandError(f"Cannot create {path}: {error.strerror}.") from None
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
