"""TOTP secrets are stored encrypted (accounts/crypto.py): the column becomes text, wide enough
for a Fernet token, and every secret stored in plain text is encrypted with the current first key.

The rows are read and written with plain SQL: the model's field would decrypt on reading, which
a plain-text secret cannot survive.
"""

from cryptography.fernet import InvalidToken
from django.db import migrations

import accounts.crypto


def _rewrite(schema_editor, change):
    table = schema_editor.quote_name("accounts_totpdevice")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT id, secret FROM {table}")
        for pk, stored in cursor.fetchall():
            rewritten = change(stored)
            if rewritten != stored:
                cursor.execute(f"UPDATE {table} SET secret = %s WHERE id = %s", [rewritten, pk])


def _encrypted(stored):
    try:
        accounts.crypto.decrypt(stored)
    except InvalidToken:
        return accounts.crypto.encrypt(stored)
    return stored


def encrypt_plain_secrets(apps, schema_editor):
    _rewrite(schema_editor, _encrypted)


def decrypt_secrets(apps, schema_editor):
    _rewrite(schema_editor, accounts.crypto.decrypt)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_api_key_expiry_and_last_use_ip"),
    ]

    operations = [
        migrations.AlterField(
            model_name="totpdevice",
            name="secret",
            field=accounts.crypto.EncryptedTextField(),
        ),
        migrations.RunPython(encrypt_plain_secrets, decrypt_secrets),
    ]
