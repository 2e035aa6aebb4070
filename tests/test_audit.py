"""The audit log (docs/security.md): every event type recorded with IP and user agent; auditEvents and the admin."""

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts.codenames import VIEW_AUDIT_EVENT, VIEW_USER
from accounts.models import AuditEvent
from accounts.request_meta import RequestMeta
from schema.relay import to_global_id
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes, only_error
from tests.mail_util import delivered, run_mail_queue, token_in

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


# Without the retry grace a second presentation of a refresh token is reuse at once.
@override_settings(JWT={**settings.JWT, "REFRESH_GRACE_SECONDS": 0})
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


def follow_the_link_mailed_to(client, address, operation, **variables):
    run_mail_queue()
    (message,) = delivered(address)
    client.execute(operation, {"token": token_in(message), **variables}, **CLIENT)


def reset_password(client):
    client.execute('mutation { requestPasswordReset(email: "alice@example.com") }', **CLIENT)
    reset = "mutation ($token: String!, $new: String!) { resetPassword(token: $token, newPassword: $new) }"
    follow_the_link_mailed_to(client, "alice@example.com", reset, new="a new long passphrase")


VERIFY = "mutation ($token: String!) { verifyEmail(token: $token) }"


def verify_email(client):
    logged_in(client).execute("mutation { resendVerificationEmail }", **CLIENT)
    follow_the_link_mailed_to(client, "alice@example.com", VERIFY)


def change_email(client):
    logged_in(client).execute(
        'mutation { changeEmail(newEmail: "alice@new.example", password: "%s") }' % PASSWORD, **CLIENT
    )
    follow_the_link_mailed_to(client, "alice@new.example", VERIFY)


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
        lambda client: logged_in(client).execute("mutation { revokeAllTokens }", **CLIENT),
        "alice",
        True,
    ),
    Type.PASSWORD_CHANGED: (change_password, "alice", True),
    Type.PASSWORD_RESET: (reset_password, "alice", True),
    Type.EMAIL_VERIFIED: (verify_email, "alice", True),
    Type.EMAIL_CHANGED: (change_email, "alice", True),
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
    return grant_role(make_user("auditor"), VIEW_AUDIT_EVENT, role="auditors")


def test_anonymous_viewers_cannot_read_the_log(gql):
    assert error_codes(gql.execute(AUDIT_EVENTS)) == ["UNAUTHENTICATED"]


def test_staff_without_the_codename_cannot_read_the_log(client_for, make_user):
    error = only_error(client_for(make_user("staff", is_staff=True)).execute(AUDIT_EVENTS))
    assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_AUDIT_EVENT]}


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
    assert nodes[1]["user"] == {"username": "alice"} and nodes[0]["user"] == {"username": "bob"}
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
    assert usernames(userId=to_global_id("User", alice.pk)) == [("LOGIN_FAILURE", "alice"), ("LOGIN_SUCCESS", "alice")]
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


@pytest.mark.parametrize(
    "user_id", ["not an id", to_global_id("Task", 1), to_global_id("User", "x"), to_global_id("User", "²")]
)
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


def test_failed_logins_are_linked_to_the_account_with_that_username(client_for, auditor, alice):
    client = GraphQLClient()
    for _ in range(3):
        login(client, "alice", "wrong")
    login(client, "nobody", "wrong")
    edges = client_for(auditor).execute(AUDIT_EVENTS, {"userId": to_global_id("User", alice.pk)})["data"]["auditEvents"]
    assert [(edge["node"]["type"], edge["node"]["user"]) for edge in edges["edges"]] == [
        ("LOGIN_FAILURE", {"username": "alice"})
    ] * 3
    assert AuditEvent.objects.get(username="nobody").user is None


@override_settings(GRAPHQL_FIELD_CODENAMES={"User.email": [VIEW_USER]})
def test_a_refusal_is_recorded_for_the_viewer_even_when_a_later_field_ends_the_session(client_for, alice):
    document = 'mutation { createTask(input: {title: "x"}) { owner { email } } revokeAllTokens }'
    result = client_for(alice).execute(document, **CLIENT)
    assert only_error(result)["extensions"]["code"] == "FORBIDDEN"
    assert result["data"]["revokeAllTokens"] == 1
    event = AuditEvent.objects.get(type=Type.PERMISSION_DENIED)
    assert (event.user, event.username) == (alice, "alice")


REFUSALS_FROM = {"REMOTE_ADDR": "203.0.113.5", "HTTP_USER_AGENT": "flood/" + "x" * 600}


def audit_log_lines(caplog):
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "accounts.audit"]


@override_settings(AUDIT_MAX_EVENTS_PER_MINUTE=3, LOGIN_RATE_LIMIT="100/m")
def test_a_flood_of_refusals_from_one_client_is_capped_and_counted_in_the_log(alice, caplog):
    caplog.set_level(logging.INFO, logger="accounts.audit")
    client = GraphQLClient()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for number in range(10):
            client.execute(LOGIN, {"username": f"random{number}" + "y" * 600, "password": "wrong"}, **REFUSALS_FROM)

        stored = AuditEvent.objects.filter(type=Type.LOGIN_FAILURE).order_by("pk")
        assert [event.username[:7] for event in stored] == ["random0", "random1", "random2"]
        assert all(len(event.user_agent) == 512 and len(event.username) == 150 for event in stored)
        lines = [line for line in audit_log_lines(caplog) if line["event"] == "LOGIN_FAILURE"]
        assert [(line["stored"], line["count_this_minute"]) for line in lines] == [
            *((True, count) for count in range(1, 4)),
            *((False, count) for count in range(4, 11)),
        ]

        # Another client, and success from the same client, are not affected.
        client.execute(LOGIN, {"username": "other", "password": "wrong"}, REMOTE_ADDR="198.51.100.1")
        client.execute(LOGIN, {"username": "alice", "password": PASSWORD}, **REFUSALS_FROM)
        assert stored.filter(username="other").exists()
        assert AuditEvent.objects.filter(type=Type.LOGIN_SUCCESS, ip="203.0.113.5").exists()

        clock.shift(timedelta(seconds=61))
        client.execute(LOGIN, {"username": "next-minute", "password": "wrong"}, **REFUSALS_FROM)
        assert stored.filter(username="next-minute").exists()


@override_settings(AUDIT_MAX_EVENTS_PER_MINUTE=3)
def test_refusals_of_a_read_only_key_are_capped_per_client(alice, client_for):
    from accounts.apikeys import create

    _, secret = create(alice, "dashboard", True, None, PASSWORD, RequestMeta())
    client = GraphQLClient()
    client.headers = {"HTTP_X_API_KEY": secret}
    for _ in range(10):
        assert error_codes(client.execute('mutation { createTask(input: {title: "x"}) { id } }', **REFUSALS_FROM)) == [
            "FORBIDDEN"
        ]
    assert AuditEvent.objects.filter(type=Type.PERMISSION_DENIED, user=alice).count() == 3
