import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings

from accounts.models import AuditEvent, LoginSession
from tests.graphql_util import LOGIN, PASSWORD, only_error


def login(gql, username, password):
    return gql.execute(LOGIN, {"username": username, "password": password})


def test_login_returns_a_token_pair_and_the_user(gql, alice):
    result = login(gql, "alice", PASSWORD)

    payload = result["data"]["tokenAuth"]
    assert payload["access"] and payload["refresh"]
    assert payload["accessExpiresAt"] < payload["refreshExpiresAt"]
    assert payload["user"]["username"] == "alice"
    assert LoginSession.objects.filter(user=alice, revoked_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(type="LOGIN_SUCCESS", user=alice).exists()


def test_within_the_payload_the_logged_in_user_is_the_viewer(gql, alice):
    result = gql.execute(
        'mutation { tokenAuth(username: "alice", password: "%s") { user { email lastLogin roles } } }' % PASSWORD
    )
    assert "errors" not in result
    assert result["data"]["tokenAuth"]["user"]["email"] == alice.email
    assert result["data"]["tokenAuth"]["user"]["lastLogin"] is not None


def test_the_viewer_of_one_login_is_not_the_viewer_of_another_field(gql, alice, bob):
    result = gql.execute(
        """mutation {
          a: tokenAuth(username: "alice", password: "%s") { user { username } }
        }"""
        % PASSWORD
    )
    assert "errors" not in result
    assert only_error(gql.execute("{ me { username } }"))["extensions"]["reason"] == "missing_credentials"


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice", "wrong password"), ("nobody", PASSWORD), ("inactive", PASSWORD)],
    ids=["wrong password", "unknown user", "inactive user"],
)
def test_every_login_failure_looks_the_same(gql, make_user, alice, username, password):
    make_user("inactive", is_active=False)
    error = only_error(login(gql, username, password))

    assert error["extensions"] == {"code": "INVALID_CREDENTIALS"}
    assert error["message"] == "Please enter a correct username and password."
    assert not LoginSession.objects.exists()
    assert AuditEvent.objects.filter(type="LOGIN_FAILURE", username=username, success=False).exists()


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
)
def test_pbkdf2_hash_verifies_and_is_upgraded_to_argon2(gql, make_user):
    user = make_user("legacy")
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save()

    assert "errors" not in login(gql, "legacy", PASSWORD)
    user.refresh_from_db()
    assert user.password.startswith("argon2")


def test_argon2_is_the_default_hasher_outside_tests():
    from project import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
