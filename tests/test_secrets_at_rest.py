"""TOTP secrets are stored encrypted (accounts/crypto.py): a database dump alone yields no second factor."""

import io
import time

import pyotp
import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from accounts import crypto, totp
from accounts.models import TotpDevice
from tests.graphql_util import PASSWORD, GraphQLClient

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SETUP = "mutation { setupTotp { secret } }"
CONFIRM = (
    "mutation($code: String!, $password: String) { confirmTotp(code: $code, password: $password) { recoveryCodes } }"
)
LOGIN = (
    "mutation($u: String!, $p: String!, $otp: String) { tokenAuth(username: $u, password: $p, otp: $otp) { access } }"
)


def stored_secret(user):
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM accounts_totpdevice WHERE user_id = %s", [user.pk])
        return cursor.fetchone()[0]


def turn_totp_on(client_for, user):
    """TOTP on for `user`; its secret and recovery codes."""
    client = client_for(user)
    secret = client.execute(SETUP)["data"]["setupTotp"]["secret"]
    result = client.execute(CONFIRM, {"code": pyotp.TOTP(secret).now(), "password": PASSWORD})
    assert "errors" not in result, result
    return secret, result["data"]["confirmTotp"]["recoveryCodes"]


def log_in_with_code(user, secret):
    """With the code of the next time step: accepted (clock drift), and not the one confirmTotp used."""
    code = pyotp.TOTP(secret).at(time.time() + 30)
    return GraphQLClient().execute(LOGIN, {"u": user.username, "p": PASSWORD, "otp": code})


def test_the_database_holds_no_secret_in_plain_text_and_codes_still_work(alice, client_for):
    secret, _ = turn_totp_on(client_for, alice)
    stored = stored_secret(alice)
    assert secret not in stored and stored != secret
    assert crypto.decrypt(stored) == secret
    assert "errors" not in log_in_with_code(alice, secret)


def test_a_new_first_key_reads_old_secrets_and_reencrypting_retires_the_old_key(alice, client_for):
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]):
        secret, _ = turn_totp_on(client_for, alice)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        assert TotpDevice.objects.get(user=alice).secret == secret  # read with the older key
        call_command("reencrypt_secrets", stdout=io.StringIO())
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_B]):
        assert crypto.decrypt(stored_secret(alice)) == secret
        assert "errors" not in log_in_with_code(alice, secret)
    with override_settings(FIELD_ENCRYPTION_KEYS=[KEY_A]), pytest.raises(InvalidToken):
        crypto.decrypt(stored_secret(alice))


def test_the_command_prints_keys_the_settings_accept(capsys, settings):
    call_command("reencrypt_secrets", "--new-key")
    key = capsys.readouterr().out.strip()
    assert crypto.checked_keys([key]) == [key]
    # Without FIELD_ENCRYPTION_KEYS the derived key is the one in use: moving to explicit keys
    # means listing it after the new one, then re-encrypting.
    call_command("reencrypt_secrets", "--derived-key")
    assert capsys.readouterr().out.strip() == settings.FIELD_ENCRYPTION_KEYS[0]


def test_the_migration_encrypts_plain_secrets_and_decrypts_them_going_back(transactional_db, alice):
    before, after = [("accounts", "0003_api_key_expiry_and_last_use_ip")], [("accounts", "0004_totp_secrets_encrypted")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO accounts_totpdevice (user_id, secret) VALUES (%s, %s)", [alice.pk, "JBSWY3DPEHPK3PXP"]
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        assert crypto.decrypt(stored_secret(alice)) == "JBSWY3DPEHPK3PXP"
        executor = MigrationExecutor(connection)
        executor.migrate(before)
        assert stored_secret(alice) == "JBSWY3DPEHPK3PXP"
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_recovery_codes_stay_hashed(alice, client_for):
    _, recovery_codes = turn_totp_on(client_for, alice)
    stored = set(TotpDevice.objects.get(user=alice).recovery_codes.values_list("code_hash", flat=True))
    assert len(stored) == totp.RECOVERY_CODE_COUNT
    assert not any(code.replace("-", "") in digest for code in recovery_codes for digest in stored)
