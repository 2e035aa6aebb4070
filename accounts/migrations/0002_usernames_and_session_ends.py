"""Usernames become unique by their canonical form (accounts/usernames.py), and sessions end on a
new password (LoginSession.check_usable).

Existing usernames are stored NFKC-normalized. Where two existing accounts share a canonical form
(`Alice` and `alice`, `ａｄｍｉｎ` and `admin`), the older account (the lower id) keeps its name and
each later one is renamed to `<name>-<id>`, printed here so that operators can tell its owner;
nothing else about those accounts changes.

Existing sessions get the digest of their user's password hash as it is now: they go on working
until the password changes.
"""

import sys

from django.db import migrations, models

import accounts.models
from accounts import usernames
from accounts.digests import digest

BATCH_SIZE = 1000


def _renamed(name, pk, taken):
    for attempt in range(1, 1000):
        suffix = f"-{pk}" if attempt == 1 else f"-{pk}-{attempt}"
        candidate = name[: 150 - len(suffix)] + suffix
        if usernames.canonical(candidate) not in taken:
            return candidate
    raise RuntimeError(f"No free username for user {pk}")


def store_canonical_usernames(apps, schema_editor):
    users = apps.get_model("accounts", "User")._base_manager.using(schema_editor.connection.alias)
    holders = {}
    later_spellings = []
    for pk, username in users.order_by("pk").values_list("pk", "username").iterator(chunk_size=BATCH_SIZE):
        key = usernames.canonical(username)
        if key in holders:
            later_spellings.append((pk, username))
        else:
            holders[key] = pk
    # Renamed first: a new name is free in every spelling, and once the later spellings are gone
    # no two remaining usernames normalize to the same one.
    for pk, username in later_spellings:
        new_name = _renamed(usernames.normalized(username), pk, holders)
        holders[usernames.canonical(new_name)] = pk
        users.filter(pk=pk).update(username=new_name)
        sys.stdout.write(
            f"\n  Renamed user {pk} from {username!r} to {new_name!r}: "
            f"another account already has that username in another spelling."
        )
    # In batches of ids: SQLite gives no isolation between a read in progress and writes to it.
    last_pk = 0
    while batch := list(users.filter(pk__gt=last_pk).order_by("pk").only("pk", "username")[:BATCH_SIZE]):
        for user in batch:
            user.username = usernames.normalized(user.username)
            user.canonical_username = usernames.canonical(user.username)
        users.bulk_update(batch, ["username", "canonical_username"])
        last_pk = batch[-1].pk


def record_passwords_of_sessions(apps, schema_editor):
    alias = schema_editor.connection.alias
    sessions = apps.get_model("accounts", "LoginSession")._base_manager.using(alias)
    users = apps.get_model("accounts", "User")._base_manager.using(alias)
    for pk, password in list(users.filter(login_sessions__isnull=False).distinct().values_list("pk", "password")):
        sessions.filter(user_id=pk).update(password_digest=digest(password))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="canonical_username",
            field=models.CharField(editable=False, max_length=300, null=True),
        ),
        migrations.RunPython(store_canonical_usernames, migrations.RunPython.noop, elidable=True),
        migrations.AlterField(
            model_name="user",
            name="canonical_username",
            field=models.CharField(editable=False, max_length=300, unique=True),
        ),
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", accounts.models.UserManager()),
            ],
        ),
        migrations.AddField(
            model_name="loginsession",
            name="password_digest",
            field=models.CharField(default="", max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(record_passwords_of_sessions, migrations.RunPython.noop, elidable=True),
    ]
