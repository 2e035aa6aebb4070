"""Data migrations, run on rows written by the schema before them."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.exceptions import Unauthenticated
from accounts.models import LoginSession, User

BEFORE_CANONICAL_USERNAMES = [("accounts", "0001_initial")]


@pytest.fixture
def old_apps(transactional_db):
    """The app registry as of `BEFORE_CANONICAL_USERNAMES`; migrates forward again afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_CANONICAL_USERNAMES)
    try:
        yield executor.loader.project_state(BEFORE_CANONICAL_USERNAMES).apps
    finally:
        migrate_to_latest()  # a no-op after a test that got there itself


def migrate_to_latest():
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_usernames_are_normalized_and_later_spellings_renamed(old_apps, capsys):
    old_user = old_apps.get_model("accounts", "User")
    created = {
        name: old_user.objects.create(username=name, email=f"{number}@example.com").pk
        for number, name in enumerate(["Dup", "dup", "ｄｕｐ", "Émile", "émile", "ａｌｉｃｅ", "solo"])
    }

    migrate_to_latest()

    names = dict(User.objects.values_list("pk", "username"))
    assert names == {
        created["Dup"]: "Dup",  # the oldest keeps its name
        created["dup"]: f"dup-{created['dup']}",
        created["ｄｕｐ"]: f"dup-{created['ｄｕｐ']}",
        created["Émile"]: "Émile",
        created["émile"]: f"émile-{created['émile']}",
        created["ａｌｉｃｅ"]: "alice",  # NFKC, as new usernames are stored
        created["solo"]: "solo",
    }
    assert User.objects.get_by_natural_key("DUP").pk == created["Dup"]
    assert User.objects.get(pk=created["ａｌｉｃｅ"]).canonical_username == "alice"
    output = capsys.readouterr().out
    assert f"Renamed user {created['dup']} from 'dup' to 'dup-{created['dup']}'" in output
    assert output.count("Renamed user") == 3


def test_existing_sessions_go_on_working_until_the_password_changes(old_apps):
    old_user = old_apps.get_model("accounts", "User").objects.create(username="alice", password="md5$salt$hash")
    old_sessions = old_apps.get_model("accounts", "LoginSession").objects
    live = old_sessions.create(user=old_user).pk
    revoked = old_sessions.create(user=old_user, revoked_at=timezone.now()).pk

    migrate_to_latest()

    LoginSession.objects.select_related("user").get(pk=live).check_usable()
    with pytest.raises(Unauthenticated) as refused:
        LoginSession.objects.select_related("user").get(pk=revoked).check_usable()
    assert refused.value.reason == Unauthenticated.REVOKED

    user = User.objects.get(username="alice")
    user.set_password("a new password for alice")
    user.save()
    with pytest.raises(Unauthenticated) as refused:
        LoginSession.objects.select_related("user").get(pk=live).check_usable()
    assert refused.value.reason == Unauthenticated.REVOKED


def test_existing_accounts_start_unverified(old_apps):
    """Nobody proved the addresses of accounts made before verification (docs/recovery.md)."""
    old_apps.get_model("accounts", "User").objects.create(username="old", email="old@example.com")

    migrate_to_latest()

    user = User.objects.get(username="old")
    assert (user.email, user.email_verified) == ("old@example.com", False)
