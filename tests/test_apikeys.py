"""API keys (docs/totp-and-api-keys.md) and the X-API-Key header."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts import apikeys
from accounts.models import ApiKey, AuditEvent, LoginSession
from accounts.request_meta import RequestMeta
from schema.permissions import NoReadOnlyKey, field_rule
from schema.relay import to_global_id
from schema.schema import schema
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, data_queries, error_codes, only_error

START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)

CREATE = """
mutation Create($name: String!, $readOnly: Boolean, $expiresAt: DateTime, $password: String) {
  createApiKey(name: $name, readOnly: $readOnly, expiresAt: $expiresAt, password: $password) {
    secret apiKey { id name prefix readOnly createdAt lastUsedAt lastUsedIp expiresAt revokedAt }
  }
}
"""
REVOKE = "mutation Revoke($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }"
API_KEYS = "{ apiKeys { id name prefix readOnly createdAt lastUsedAt lastUsedIp expiresAt revokedAt } }"
ME = "{ me { username } }"
REVOKE_TOKEN = "mutation Logout($refresh: String!) { revokeToken(refresh: $refresh) { revoked } }"

CREDENTIAL_MUTATIONS = {
    "createApiKey": (
        'mutation($pw: String!) { createApiKey(name: "another", password: $pw) { secret } }',
        {"pw": PASSWORD},
    ),
    "revokeApiKey": ("mutation Revoke($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": None}),
    "changePassword": (
        'mutation($old: String!) { changePassword(oldPassword: $old, newPassword: "a new long passphrase") '
        "{ access } }",
        {"old": PASSWORD},
    ),
    "revokeAllTokens": ("mutation { revokeAllTokens }", {}),
    "setupTotp": ("mutation { setupTotp { secret } }", {}),
    "confirmTotp": (
        'mutation($pw: String!) { confirmTotp(code: "123456", password: $pw) { recoveryCodes } }',
        {"pw": PASSWORD},
    ),
    "disableTotp": ('mutation($pw: String!) { disableTotp(password: $pw, code: "123456") }', {"pw": PASSWORD}),
    "changeEmail": (
        'mutation($pw: String!) { changeEmail(newEmail: "new@example.com", password: $pw) }',
        {"pw": PASSWORD},
    ),
}


def with_key(secret):
    client = GraphQLClient()
    client.headers = {"HTTP_X_API_KEY": secret}
    return client


def create_key(client, name="ci", **arguments):
    result = client.execute(CREATE, {"name": name, "password": PASSWORD, **arguments})
    assert "errors" not in result, result
    return result["data"]["createApiKey"]


def random_part_of(secret):
    """What follows `gqlauth_<16 hex>_`; the random part may itself hold "_"."""
    return secret.split("_", 2)[2]


def rejection(result):
    error = only_error(result)
    return error["extensions"]["code"], error["extensions"].get("reason")


@pytest.fixture
def alice_client(alice, as_user):
    return as_user(alice)


@pytest.fixture
def key(alice_client):
    return create_key(alice_client)


@pytest.fixture
def read_only_key(alice_client):
    return create_key(alice_client, "dashboard", readOnly=True)


def test_create_shows_the_secret_once_and_stores_only_a_digest(alice, alice_client):
    created = create_key(alice_client, "deploy bot")
    secret, api_key = created["secret"], created["apiKey"]
    assert secret.startswith("gqlauth_")
    assert secret.startswith(api_key["prefix"] + "_")
    assert len(secret.removeprefix(api_key["prefix"] + "_")) >= 43  # 256 random bits, base64url
    assert api_key["name"] == "deploy bot" and api_key["readOnly"] is False
    assert api_key["lastUsedAt"] is None and api_key["lastUsedIp"] is None and api_key["revokedAt"] is None
    assert api_key["expiresAt"] is not None

    row = ApiKey.objects.get(user=alice)
    assert secret not in str(list(ApiKey.objects.values()))
    assert row.secret_hash != secret
    assert AuditEvent.objects.filter(type="API_KEY_CREATED", user=alice).count() == 1


def test_a_stolen_access_token_alone_cannot_create_a_key(alice, alice_client):
    without_password = alice_client.execute('mutation { createApiKey(name: "backdoor") { secret } }')
    wrong_password = alice_client.execute(CREATE, {"name": "backdoor", "password": "a guess"})
    for refused in (without_password, wrong_password):
        error = only_error(refused)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert list(error["extensions"]["fieldErrors"]) == ["password"]
    assert not ApiKey.objects.exists()
    assert not AuditEvent.objects.filter(type="API_KEY_CREATED").exists()


def test_a_key_expires_a_year_after_its_creation_by_default(alice, client_for):
    with time_machine.travel(START, tick=False) as clock:
        created = create_key(client_for(alice))
        assert created["apiKey"]["expiresAt"] == (START + timedelta(days=365)).isoformat()
        client = with_key(created["secret"])
        clock.shift(timedelta(days=365, seconds=-1))
        assert client.execute(ME)["data"]["me"]["username"] == "alice"
        clock.shift(timedelta(seconds=1))
        assert rejection(client.execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")


@override_settings(API_KEY_MAX_LIFETIME=3600)
def test_no_key_outlives_the_maximum_lifetime(alice, client_for):
    latest = (START + timedelta(hours=1)).isoformat()
    with time_machine.travel(START, tick=False):
        client = client_for(alice)
        assert create_key(client, "default")["apiKey"]["expiresAt"] == latest
        assert create_key(client, "longest", expiresAt=latest)["apiKey"]["expiresAt"] == latest
        later = (START + timedelta(hours=1, seconds=1)).isoformat()
        too_late = client.execute(CREATE, {"name": "later", "password": PASSWORD, "expiresAt": later})
    assert only_error(too_late)["extensions"]["fieldErrors"] == {
        "expiresAt": [f"Must be no later than {latest}: keys live at most 3600 seconds."]
    }
    assert sorted(ApiKey.objects.values_list("name", flat=True)) == ["default", "longest"]


def test_the_secrets_of_two_keys_differ(alice_client):
    first, second = create_key(alice_client), create_key(alice_client)
    assert first["secret"] != second["secret"]
    assert first["apiKey"]["prefix"] != second["apiKey"]["prefix"]


def test_a_key_authenticates_its_owner_for_queries(key, read_only_key):
    assert with_key(key["secret"]).execute(ME)["data"]["me"]["username"] == "alice"
    assert with_key(read_only_key["secret"]).execute(ME)["data"]["me"]["username"] == "alice"


def test_a_key_is_found_with_one_query_and_no_scan(key):
    client = with_key(key["secret"])
    client.execute(ME)  # sets lastUsedAt
    with CaptureQueriesContext(connection) as queries:
        assert client.execute(ME)["data"]["me"]["username"] == "alice"
    key_queries = [query["sql"] for query in queries if "accounts_apikey" in query["sql"]]
    assert len(key_queries) == 1
    assert "prefix" in key_queries[0] and key_queries[0].startswith("SELECT")


def test_last_used_at_is_written_at_most_once_a_minute(alice, key):
    client = with_key(key["secret"])
    with time_machine.travel(START, tick=False) as clock:
        client.execute(ME)
        assert ApiKey.objects.get(user=alice).last_used_at == START

        clock.shift(timedelta(seconds=59))
        with CaptureQueriesContext(connection) as queries:
            client.execute(ME)
        assert not [sql for sql in data_queries(queries) if sql.startswith("UPDATE")]
        assert ApiKey.objects.get(user=alice).last_used_at == START

        clock.shift(timedelta(seconds=2))
        client.execute(ME)
        assert ApiKey.objects.get(user=alice).last_used_at == START + timedelta(seconds=61)


def test_the_owner_sees_from_where_a_key_was_last_used(alice, alice_client, key):
    """So that the owner can spot a key used from somewhere they do not know."""
    client = with_key(key["secret"])
    with time_machine.travel(START, tick=False) as clock:
        client.execute(ME, REMOTE_ADDR="198.51.100.7")
        clock.shift(timedelta(seconds=59))
        client.execute(ME, REMOTE_ADDR="203.0.113.9")  # within the minute: nothing is written
        assert ApiKey.objects.values_list("last_used_at", "last_used_ip").get() == (START, "198.51.100.7")
        clock.shift(timedelta(seconds=2))
        client.execute(ME, REMOTE_ADDR="203.0.113.9")
    listed = alice_client.execute(API_KEYS)["data"]["apiKeys"]
    assert [(item["lastUsedAt"], item["lastUsedIp"]) for item in listed] == [
        ((START + timedelta(seconds=61)).isoformat(), "203.0.113.9")
    ]


def test_api_keys_lists_the_viewers_keys_without_secrets(alice_client, bob, as_user, key, read_only_key):
    create_key(as_user(bob), "bob's key")
    listed_by_token = alice_client.execute(API_KEYS)["data"]["apiKeys"]
    # A key may list the keys of its owner; the secrets stay hidden there too.
    listed_by_key = with_key(key["secret"]).execute(API_KEYS)["data"]["apiKeys"]
    for listed in (listed_by_token, listed_by_key):
        assert [(item["name"], item["prefix"]) for item in listed] == [
            ("dashboard", read_only_key["apiKey"]["prefix"]),
            ("ci", key["apiKey"]["prefix"]),
        ]
        for secret in (key["secret"], read_only_key["secret"]):
            assert secret not in str(listed)
            assert random_part_of(secret) not in str(listed)


def test_a_key_that_may_write_runs_mutations(alice, key):
    session = GraphQLClient().login("alice")
    result = with_key(key["secret"]).execute(REVOKE_TOKEN, {"refresh": session["refresh"]})
    assert result["data"]["revokeToken"]["revoked"] is True


def test_a_read_only_key_runs_no_mutation(alice, read_only_key):
    session = GraphQLClient().login("alice")
    client = with_key(read_only_key["secret"])
    for operation, variables in [
        (REVOKE_TOKEN, {"refresh": session["refresh"]}),
        (LOGIN, {"username": "alice", "password": PASSWORD}),
        CREDENTIAL_MUTATIONS["createApiKey"],
    ]:
        assert rejection(client.execute(operation, variables)) == ("FORBIDDEN", None)
    assert not LoginSession.objects.filter(revoked_at__isnull=False).exists()


def test_every_mutation_refuses_read_only_keys():
    """Declared centrally by protected_mutation, so a new mutation cannot forget it."""
    fields = schema.get_type_by_name("Mutation").fields
    assert {"token_auth", "create_api_key", "disable_totp"} <= {field.python_name for field in fields}
    for field in fields:
        assert any(isinstance(rule, NoReadOnlyKey) for rule in field_rule(field).rule.leaves()), field.name


@pytest.mark.parametrize("mutation", sorted(CREDENTIAL_MUTATIONS))
def test_credential_mutations_need_a_token_login(alice, key, mutation):
    operation, variables = CREDENTIAL_MUTATIONS[mutation]
    if "id" in variables:
        variables = {"id": key["apiKey"]["id"]}
    sessions_before = LoginSession.objects.filter(revoked_at__isnull=True).count()

    result = with_key(key["secret"]).execute(operation, variables)

    assert rejection(result) == ("FORBIDDEN", None)
    assert ApiKey.objects.filter(user=alice).count() == 1
    assert ApiKey.objects.get(user=alice).revoked_at is None
    assert LoginSession.objects.filter(revoked_at__isnull=True).count() == sessions_before
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not hasattr(alice, "totp_device")


def test_every_key_of_a_user_is_revoked_at_once(alice, bob, alice_client, as_user):
    first, second = create_key(alice_client, "first"), create_key(alice_client, "second")
    alice_client.execute(REVOKE, {"id": first["apiKey"]["id"]})
    bobs = create_key(as_user(bob), "bob's")

    assert apikeys.revoke_all_of(alice, RequestMeta(ip="192.0.2.1")) == 1

    for created in (first, second):
        assert rejection(with_key(created["secret"]).execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")
    assert with_key(bobs["secret"]).execute(ME)["data"]["me"]["username"] == "bob"
    assert AuditEvent.objects.filter(type="API_KEY_REVOKED", user=alice).count() == 2
    assert apikeys.revoke_all_of(alice, RequestMeta()) == 0


def test_ending_sessions_does_not_end_keys(alice, alice_client, key):
    """As docs/sessions.md says: revokeAllTokens and changePassword end sessions, not API keys."""
    assert alice_client.execute("mutation { revokeAllTokens }")["data"]["revokeAllTokens"] == 1
    fresh = GraphQLClient().authenticate(GraphQLClient().login("alice")["access"])
    changed = fresh.execute(
        'mutation($old: String!) { changePassword(oldPassword: $old, newPassword: "a new long passphrase") '
        "{ access } }",
        {"old": PASSWORD},
    )
    assert "errors" not in changed, changed
    assert with_key(key["secret"]).execute(ME)["data"]["me"]["username"] == "alice"


def test_revoke_then_use(alice, alice_client, key):
    revoked = alice_client.execute(REVOKE, {"id": key["apiKey"]["id"]})["data"]["revokeApiKey"]
    assert revoked["revokedAt"] is not None
    assert rejection(with_key(key["secret"]).execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")
    assert AuditEvent.objects.filter(type="API_KEY_REVOKED", user=alice).count() == 1

    again = alice_client.execute(REVOKE, {"id": key["apiKey"]["id"]})["data"]["revokeApiKey"]
    assert again["revokedAt"] == revoked["revokedAt"]
    assert AuditEvent.objects.filter(type="API_KEY_REVOKED").count() == 1


def test_another_users_key_is_not_found(bob, as_user, key):
    bob_client = as_user(bob)
    assert error_codes(bob_client.execute(REVOKE, {"id": key["apiKey"]["id"]})) == ["NOT_FOUND"]
    node = "query($id: ID!) { node(id: $id) { id ... on ApiKey { name } } }"
    assert error_codes(bob_client.execute(node, {"id": key["apiKey"]["id"]})) == ["NOT_FOUND"]
    assert ApiKey.objects.get().revoked_at is None


def test_the_owner_reads_a_key_through_node(alice_client, key):
    node = "query($id: ID!) { node(id: $id) { id ... on ApiKey { name prefix } } }"
    result = alice_client.execute(node, {"id": key["apiKey"]["id"]})["data"]["node"]
    assert result == {"id": key["apiKey"]["id"], "name": "ci", "prefix": key["apiKey"]["prefix"]}


def test_revoke_with_an_id_of_another_type_is_not_found(alice, alice_client):
    assert error_codes(alice_client.execute(REVOKE, {"id": to_global_id("User", alice.pk)})) == ["NOT_FOUND"]
    assert error_codes(alice_client.execute(REVOKE, {"id": "not an id"})) == ["BAD_USER_INPUT"]


def test_expire_then_use(alice, as_user):
    with time_machine.travel(START, tick=False) as clock:
        alice_client = as_user(alice)
        expires_at = (START + timedelta(hours=1)).isoformat()
        created = create_key(alice_client, expiresAt=expires_at)
        assert created["apiKey"]["expiresAt"] == expires_at
        client = with_key(created["secret"])
        assert client.execute(ME)["data"]["me"]["username"] == "alice"
        clock.shift(timedelta(hours=1))
        assert rejection(client.execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")


def test_an_expiry_in_the_past_is_bad_input(alice_client):
    result = alice_client.execute(CREATE, {"name": "old", "password": PASSWORD, "expiresAt": "2001-01-01T00:00:00"})
    assert only_error(result)["extensions"]["fieldErrors"] == {"expiresAt": ["The expiry must be in the future."]}


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_an_expiry_beyond_the_years_a_database_holds_is_bad_input(alice_client, expires_at):
    result = alice_client.execute(CREATE, {"name": "far", "password": PASSWORD, "expiresAt": expires_at})
    assert list(only_error(result)["extensions"]["fieldErrors"]) == ["expiresAt"]
    assert alice_client.execute(API_KEYS) == {"data": {"apiKeys": []}}


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "nul\x00byte"])
def test_a_key_needs_a_sensible_name(alice_client, name):
    result = alice_client.execute(CREATE, {"name": name, "password": PASSWORD})
    assert list(only_error(result)["extensions"]["fieldErrors"]) == ["name"]


def test_a_key_needs_a_viewer(gql):
    assert rejection(gql.execute(CREATE, {"name": "x"})) == ("UNAUTHENTICATED", "missing_credentials")


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "gqlauth_",
        "Bearer gqlauth_0123456789abcdef_" + "A" * 43,
        "gqlauth_0123456789abcdef_" + "A" * 43,  # well formed, no such key
        "gqlauth_0123456789abcdef_" + "A" * 42 + "!",
    ],
)
def test_a_malformed_or_unknown_key_is_refused_but_public_fields_run(alice, header):
    client = with_key(header)
    assert rejection(client.execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")
    assert "errors" not in client.execute(LOGIN, {"username": "alice", "password": PASSWORD})


def test_a_right_prefix_with_a_wrong_secret_is_refused(key):
    prefix = key["apiKey"]["prefix"]
    forged = f"{prefix}_{'A' * 43}"
    assert rejection(with_key(forged).execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")


def test_a_key_of_a_deactivated_user_is_refused(alice, key):
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert rejection(with_key(key["secret"]).execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")


def test_a_request_with_both_a_token_and_a_key_is_refused(alice_client, key):
    client = GraphQLClient()
    client.headers = {**alice_client.headers, "HTTP_X_API_KEY": key["secret"]}
    assert rejection(client.execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")


def test_the_secret_never_reaches_logs_or_audit_events(alice_client, caplog):
    caplog.set_level(logging.DEBUG)
    created = create_key(alice_client)
    secret = created["secret"]
    client = with_key(secret)
    client.execute(ME)
    client.execute("mutation { revokeAllTokens }")
    alice_client.execute(REVOKE, {"id": created["apiKey"]["id"]})
    client.execute(ME)

    random_part = random_part_of(secret)
    audit_rows = str(list(AuditEvent.objects.values()))
    assert AuditEvent.objects.filter(type__in=["API_KEY_CREATED", "API_KEY_REVOKED"]).count() == 2
    for text in (caplog.text, audit_rows):
        assert secret not in text
        assert random_part not in text


def test_staff_list_and_revoke_keys_in_the_admin(alice, make_user, key):
    admin = make_user("root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    changelist = browser.get("/admin/accounts/apikey/")
    assert changelist.status_code == 200
    assert key["apiKey"]["prefix"] in changelist.content.decode()
    assert ApiKey.objects.get().secret_hash not in changelist.content.decode()
    assert browser.get("/admin/accounts/apikey/add/").status_code == 403

    pk = ApiKey.objects.get().pk
    response = browser.post("/admin/accounts/apikey/", {"action": "revoke_keys", "_selected_action": [pk]})
    assert response.status_code == 302
    assert ApiKey.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(type="API_KEY_REVOKED", user=alice).count() == 1
    assert rejection(with_key(key["secret"]).execute(ME)) == ("UNAUTHENTICATED", "api_key_invalid")
