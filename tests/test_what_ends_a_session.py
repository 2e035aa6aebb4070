"""A new password or a deactivation ends every session of the user, whichever code path made it.

The rules live on the models, not on the mutations: the admin, a shell, a management command and a
raw queryset update bypass `changePassword` and the `post_save` signal alike.
"""

from unittest import mock

import pytest
from django.contrib.auth.hashers import make_password
from django.core.management import call_command

from accounts.models import User
from tests.graphql_util import PASSWORD, GraphQLClient
from tests.test_refresh_and_revoke import REVOKE, REVOKE_ALL, me, reason, refresh

NEW_PASSWORD = "a completely new passphrase"


@pytest.fixture
def tokens(gql, alice):
    return gql.login("alice")


def assert_ended(tokens):
    assert reason(me(tokens["access"])) == "token_revoked"
    assert reason(refresh(tokens["refresh"])) == "token_revoked"


def assert_alive(tokens):
    assert me(tokens["access"])["data"]["me"]["username"] == "alice"


def set_in_the_admin(client, make_user, alice):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post(
        f"/admin/accounts/user/{alice.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 302, response.content


def set_in_a_shell(client, make_user, alice):
    alice.set_password(NEW_PASSWORD)
    alice.save()


def set_with_a_queryset_update(client, make_user, alice):
    User.objects.filter(pk=alice.pk).update(password=make_password(NEW_PASSWORD))


def set_with_the_changepassword_command(client, make_user, alice):
    with mock.patch("getpass.getpass", return_value=NEW_PASSWORD):
        call_command("changepassword", "alice", stdout=mock.MagicMock())


@pytest.mark.parametrize(
    "set_password",
    [set_in_the_admin, set_in_a_shell, set_with_a_queryset_update, set_with_the_changepassword_command],
    ids=["admin", "shell", "queryset update", "changepassword command"],
)
def test_a_new_password_set_anywhere_ends_every_session(tokens, gql, client, make_user, alice, set_password):
    other = gql.login("alice")

    set_password(client, make_user, alice)

    assert_ended(tokens)
    assert_ended(other)
    assert gql.login("alice", NEW_PASSWORD)["user"]["username"] == "alice"


def test_an_unusable_password_ends_every_session(tokens, alice):
    alice.set_unusable_password()
    alice.save()
    assert_ended(tokens)


def test_saving_the_user_without_a_new_password_ends_nothing(tokens, alice):
    alice.first_name = "Alice"
    alice.save()
    alice.set_password(PASSWORD)  # the same password, hashed again with a new salt ...
    alice.refresh_from_db()  # ... but never saved
    assert_alive(tokens)


def test_upgrading_the_hash_of_the_same_password_keeps_the_sessions(alice, client_for):
    # A salt too short for today's hasher: the next successful check stores a new hash.
    User.objects.filter(pk=alice.pk).update(password=make_password(PASSWORD, salt="ab"))
    client = client_for(User.objects.get(pk=alice.pk))

    assert User.objects.get(pk=alice.pk).check_password(PASSWORD)

    assert User.objects.get(pk=alice.pk).password != make_password(PASSWORD, salt="ab")
    assert client.execute("{ me { username } }")["data"]["me"]["username"] == "alice"


def test_a_session_ended_by_a_new_password_is_over_for_revoke_and_revoke_all(tokens, gql, alice):
    set_in_a_shell(None, None, alice)
    fresh = gql.login("alice", NEW_PASSWORD)

    assert GraphQLClient().execute(REVOKE, {"r": tokens["refresh"]})["data"]["revokeToken"] == {"revoked": False}
    assert GraphQLClient().authenticate(fresh["access"]).execute(REVOKE_ALL)["data"]["revokeAllTokens"] == 1


def deactivate_with_save(alice):
    alice.is_active = False
    alice.save()


def deactivate_with_a_queryset_update(alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)


def deactivate_with_bulk_update(alice):
    alice.is_active = False
    User.objects.bulk_update([alice], ["is_active"])


@pytest.mark.parametrize(
    "deactivate",
    [deactivate_with_save, deactivate_with_a_queryset_update, deactivate_with_bulk_update],
    ids=["save", "queryset update", "bulk_update"],
)
def test_reactivating_a_deactivated_user_does_not_bring_old_sessions_back(tokens, gql, alice, deactivate):
    deactivate(alice)
    assert_ended(tokens)

    User.objects.filter(pk=alice.pk).update(is_active=True)

    assert_ended(tokens)
    assert gql.login("alice")["user"]["username"] == "alice"


def test_deactivating_one_user_leaves_the_sessions_of_others(tokens, gql, bob):
    bobs = gql.login("bob")
    User.objects.filter(username="alice").update(is_active=False)
    assert me(bobs["access"])["data"]["me"]["username"] == "bob"
