"""`manage.py generate_signing_key` makes a key the settings accept, and keeps it out of logs and other eyes."""

import io
import logging
import stat

import pytest
from django.core.management import CommandError, call_command

from accounts import keys


def generate(*args):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("generate_signing_key", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
def test_prints_a_private_key_the_settings_accept_for_each_algorithm(algorithm, caplog):
    caplog.set_level(logging.DEBUG)
    printed, notes = generate("--algorithm", algorithm)
    assert printed.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert printed.endswith("-----END PRIVATE KEY-----\n")
    ring = keys.private_key_ring(algorithm, [printed])
    assert f"Its kid is {ring.signing_key.kid}." in notes
    assert "PRIVATE KEY" not in notes and "PRIVATE KEY" not in caplog.text


def test_rsa_keys_are_made_comfortably_above_the_minimum():
    printed, _ = generate("--algorithm", "RS256")
    assert keys.private_key_ring("RS256", [printed]).signing_key.signing.key_size == 3072


def test_without_an_algorithm_it_makes_a_key_for_the_configured_one():
    printed, notes = generate()  # the suite runs HS256
    secret = printed.strip()
    assert len(secret) >= 64
    assert "JWT_SIGNING_KEYS" in notes and secret not in notes
    assert keys.hmac_key_ring("HS256", [secret], minimum_length=32).signing_key.signing == secret


def test_writes_the_key_to_a_new_file_only_its_owner_can_read(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "signing.pem"
    printed, notes = generate("--algorithm", "ES256", "--output", str(path))
    assert printed == ""
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    pem = path.read_text()
    keys.private_key_ring("ES256", [pem])
    assert f"Wrote a new ES256 key to {path} (mode 0600)." in notes
    for line in pem.splitlines()[1:-1]:
        assert line not in notes and line not in caplog.text


def test_never_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "signing.pem"
    path.write_text("the key in use")
    with pytest.raises(CommandError, match="already exists"):
        generate("--algorithm", "EdDSA", "--output", str(path))
    assert path.read_text() == "the key in use"
