"""The audit log (API.md section 5): every event type recorded with IP and user agent; auditEvents and the admin."""

import pytest
from django.test import override_settings

from accounts.models import AuditEvent
from schema.relay import to_global_id
from tests.conftest import LOGIN, PASSWORD, GraphQLClient, error_codes, only_error

Type = AuditEvent.Type
CLIENT = {"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": "AuditTest/1.0"}

REFRESH = "mutation ($refresh: String!) { refreshToken(refresh: $refresh) { refresh } }"
REVOKE = "mutation ($refresh: String!) { revokeToken(refresh: $refresh) { revoked } }"
AUDIT_EVENTS = """
query ($first: Int, $after: String, $type: AuditEventType, $userId: ID) {
  auditEvents(first: $first, after: $after, type: $type, userId: $userId) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id type username ip userAgent success createdAt user { username } } }
  }
}
"""


def login(client, username="alice", password=PASSWORD):
    return client.execute(LOGIN, {"username": username, "password": password}, **CLIENT)


def register(client):
    account = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    client.execute("mutation ($input: RegisterInput!) { register(input: $input) { id } }", {"input": account}, **CLIENT)


def refresh_twice(client):
    refresh = login(client)["data"]["tokenAuth"]["refresh"]
    client.execute(REFRESH, {"refresh": refresh}, **CLIENT)
    client.execute(REFRESH, {"refresh": refresh}, **CLIENT)


def revoke(client):
    client.execute(REVOKE, {"refresh": login(client)["data"]["tokenAuth"]["refresh"]}, **CLIENT)


def logged_in(client):
    return client.authenticate(login(client)["data"]["tokenAuth"]["access"])


def change_password(client):
    logged_in(client).execute(
        'mutation { changePassword(oldPassword: "%s", newPassword: "a new long passphrase") { access } }' % PASSWORD,
        **CLIENT,
    )


@override_settings(LOGIN_RATE_LIMIT="1/m")
def rate_limited(client):
    login(client, password="wrong")
    login(client, password="wrong")


ACTIONS = {
    Type.REGISTER: (register, "carol", True),
    Type.LOGIN_SUCCESS: (login, "alice", True),
    Type.LOGIN_FAILURE: (lambda client: login(client, password="wrong"), "alice", False),
    Type.RATE_LIMITED: (rate_limited, "alice", False),
    Type.TOKEN_REFRESH: (refresh_twice, "alice", True),
    Type.TOKEN_REUSE_DETECTED: (refresh_twice, "alice", False),
    Type.TOKEN_REVOKED: (revoke, "alice", True),
    Type.ALL_TOKENS_REVOKED: (
        lambda client: logged_in(client).execute("mutation { revokeAllTokens }", **CLIENT), "alice", True
    ),
    Type.PASSWORD_CHANGED: (change_password, "alice", True),
    Type.PERMISSION_DENIED: (lambda client: logged_in(client).execute(AUDIT_EVENTS, **CLIENT), "alice", False),
}
# Recorded by the TOTP and API key work, with its own tests.
ELSEWHERE = {Type.TOTP_ENABLED, Type.TOTP_DISABLED, Type.OTP_FAILURE, Type.API_KEY_CREATED, Type.API_KEY_REVOKED}


def test_every_event_type_is_covered_here_or_elsewhere():
    assert set(ACTIONS) | ELSEWHERE == set(Type)


@pytest.mark.parametrize("event_type", list(ACTIONS), ids=str)
def test_each_event_is_recorded_with_who_and_where(alice, event_type):
    action, username, success = ACTIONS[event_type]
    action(GraphQLClient())
    event = AuditEvent.objects.get(type=event_type)
    recorded = (event.username, event.ip, event.user_agent, event.success)
    assert recorded == (username, "192.0.2.10", "AuditTest/1.0", success)
    if username == "alice":
        assert event.user in (alice, None)


def test_an_unknown_username_is_recorded_as_typed_and_cut_to_fit(gql):
    gql.execute(LOGIN, {"username": "x" * 1000, "password": "wrong"})
    assert AuditEvent.objects.get(type=Type.LOGIN_FAILURE).username == "x" * 150


def test_a_server_address_that_is_not_an_ip_is_recorded_as_unknown(gql, alice):
    # What some servers put in REMOTE_ADDR for a Unix socket; the ip column takes only addresses.
    result = gql.execute(LOGIN, {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="unix:/run/gunicorn.sock")
    assert "errors" not in result, result
    assert AuditEvent.objects.get(type="LOGIN_SUCCESS").ip is None


def test_one_permission_denied_event_per_refused_request(client_for, alice):
    client_for(alice).execute("{ a: auditEvents { totalCount } b: auditEvents { totalCount } }")
    assert AuditEvent.objects.filter(type=Type.PERMISSION_DENIED, user=alice).count() == 1


@pytest.fixture
def auditor(make_user, grant_role):
    return grant_role(make_user("auditor"), "accounts.view_auditevent", role="auditors")


def test_anonymous_viewers_cannot_read_the_log(gql):
    assert error_codes(gql.execute(AUDIT_EVENTS)) == ["UNAUTHENTICATED"]


def test_staff_without_the_codename_cannot_read_the_log(client_for, make_user):
    error = only_error(client_for(make_user("staff", is_staff=True)).execute(AUDIT_EVENTS))
    assert error["extensions"] == {"code": "FORBIDDEN", "required": ["accounts.view_auditevent"]}


def test_holders_of_the_codename_read_the_log_newest_first(client_for, auditor, alice, bob):
    client = GraphQLClient()
    login(client, "alice")
    login(client, "bob", "wrong")
    result = client_for(auditor).execute(AUDIT_EVENTS)
    log = result["data"]["auditEvents"]
    assert log["totalCount"] == 2
    nodes = [edge["node"] for edge in log["edges"]]
    assert [(node["type"], node["username"], node["success"]) for node in nodes] == [
        ("LOGIN_FAILURE", "bob", False),
        ("LOGIN_SUCCESS", "alice", True),
    ]
    assert nodes[1]["user"] == {"username": "alice"} and nodes[0]["user"] is None
    assert (nodes[1]["ip"], nodes[1]["userAgent"]) == ("192.0.2.10", "AuditTest/1.0")


def test_the_log_filters_by_type_and_user(client_for, auditor, alice, bob):
    client = GraphQLClient()
    login(client, "alice")
    login(client, "alice", "wrong")
    login(client, "bob")
    viewer = client_for(auditor)

    def usernames(**filters):
        edges = viewer.execute(AUDIT_EVENTS, filters)["data"]["auditEvents"]["edges"]
        return [(edge["node"]["type"], edge["node"]["username"]) for edge in edges]

    assert usernames(type="LOGIN_SUCCESS") == [("LOGIN_SUCCESS", "bob"), ("LOGIN_SUCCESS", "alice")]
    assert usernames(userId=to_global_id("User", alice.pk)) == [("LOGIN_SUCCESS", "alice")]
    assert usernames(type="LOGIN_SUCCESS", userId=to_global_id("User", bob.pk)) == [("LOGIN_SUCCESS", "bob")]


def test_the_log_pages_with_cursors(client_for, auditor, alice):
    client = GraphQLClient()
    for _ in range(3):
        login(client, "alice", "wrong")
    viewer = client_for(auditor)
    first = viewer.execute(AUDIT_EVENTS, {"first": 2})["data"]["auditEvents"]
    assert len(first["edges"]) == 2 and first["pageInfo"]["hasNextPage"]
    rest = viewer.execute(AUDIT_EVENTS, {"first": 2, "after": first["pageInfo"]["endCursor"]})["data"]["auditEvents"]
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    ids = {edge["node"]["id"] for edge in first["edges"] + rest["edges"]}
    assert len(ids) == 3


@pytest.mark.parametrize("user_id", ["not an id", to_global_id("Task", 1), to_global_id("User", "x"), to_global_id("User", "²")])
def test_a_user_filter_that_is_not_a_user_id_is_bad_input(client_for, auditor, user_id):
    error = only_error(client_for(auditor).execute(AUDIT_EVENTS, {"userId": user_id}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fieldErrors"]) == ["userId"]


@pytest.mark.parametrize("pk", [2**63, 10**30])
def test_a_user_filter_beyond_any_primary_key_matches_nothing(client_for, auditor, pk):
    result = client_for(auditor).execute(AUDIT_EVENTS, {"userId": to_global_id("User", pk)})
    assert "errors" not in result, result
    assert result["data"]["auditEvents"]["totalCount"] == 0 and result["data"]["auditEvents"]["edges"] == []


def test_an_unknown_event_type_is_refused_without_suggestions(client_for, auditor):
    result = client_for(auditor).execute(AUDIT_EVENTS, {"type": "LOGIN_SUCCES"})
    error = only_error(result)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in error["message"]
    literal = only_error(client_for(auditor).execute("{ auditEvents(type: LOGIN_SUCCES) { totalCount } }"))
    assert "Did you mean" not in literal["message"]


def test_audit_events_are_nodes_only_for_holders_of_the_codename(client_for, auditor, alice):
    login(GraphQLClient(), "alice")
    event_id = to_global_id("AuditEvent", AuditEvent.objects.get().pk)
    query = "query ($id: ID!) { node(id: $id) { ... on AuditEvent { type } } }"
    assert client_for(auditor).execute(query, {"id": event_id})["data"]["node"] == {"type": "LOGIN_SUCCESS"}
    assert error_codes(client_for(alice).execute(query, {"id": event_id})) == ["NOT_FOUND"]


def test_the_admin_shows_the_log_read_only(client, make_user, alice):
    login(GraphQLClient(), "alice")
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    event = AuditEvent.objects.get()
    assert client.get("/admin/accounts/auditevent/").status_code == 200
    page = client.get(f"/admin/accounts/auditevent/{event.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.get("/admin/accounts/auditevent/add/").status_code == 403
    assert client.post(f"/admin/accounts/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.count() == 1


@pytest.mark.parametrize(("first", "code"), [(100, None), (101, "BAD_USER_INPUT"), (-1, "BAD_USER_INPUT")])
def test_the_log_page_size_is_limited(client_for, auditor, first, code):
    result = client_for(auditor).execute(AUDIT_EVENTS, {"first": first})
    assert error_codes(result) == ([code] if code else [])
