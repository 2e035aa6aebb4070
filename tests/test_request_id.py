"""X-Request-ID (API.md section 16): on every response, in the request's log lines and audit
events, in an INTERNAL_SERVER_ERROR; taken from the request only behind a trusted proxy."""

import json
import logging
import re
import sqlite3
import urllib.request

import pytest
from django.test import Client, override_settings

from accounts import audit, login
from accounts.codenames import VIEW_AUDIT_EVENT
from accounts.models import AuditEvent
from accounts.request_meta import RequestMeta
from project import request_id
from project.json_logs import JsonFormatter, LogFields
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, only_error
from tests.live_server import GunicornServer

GENERATED = re.compile(r"[0-9a-f]{32}")


def post_login(password, **headers):
    body = json.dumps({"query": LOGIN, "variables": {"username": "alice", "password": password}})
    return Client().post("/graphql/", body, content_type="application/json", **headers)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/healthz", 200), ("get", "/no-such-page", 404), ("get", "/graphql/", 400), ("post", "/graphql/", 400)],
)
def test_every_response_carries_a_fresh_request_id(db, method, path, status):
    responses = [getattr(Client(), method)(path) for _ in range(2)]
    assert [response.status_code for response in responses] == [status, status]
    ids = [response["X-Request-ID"] for response in responses]
    assert all(GENERATED.fullmatch(each) for each in ids)
    assert ids[0] != ids[1]


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_a_browser_app_may_read_the_request_id(alice):
    response = post_login("wrong", HTTP_ORIGIN="https://app.example.com")
    assert "X-Request-ID" in [name.strip() for name in response["Access-Control-Expose-Headers"].split(",")]


def test_a_client_cannot_choose_its_request_id_without_a_trusted_proxy(alice):
    response = post_login("wrong", HTTP_X_REQUEST_ID="chosen-by-the-client")
    assert response["X-Request-ID"] != "chosen-by-the-client"
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert AuditEvent.objects.get().request_id == response["X-Request-ID"]


@override_settings(TRUSTED_PROXY_COUNT=1)
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("0f3a9c2e-5b1d-4e8f-9a7c-6d2b1e0f4a3c", True),
        ("edge:pop-17.request_0042", True),
        ("a1b2c3d4", True),
        ("Root=1-67891233-abcdef012345678912345678", False),  # `=` is not among the characters
        ("x" * 128, True),
        ("x" * 129, False),
        ("short", False),
        ("has spaces in it", False),
        ("semi;colon;header", False),
        ("ünïcode-identifier", False),
    ],
)
def test_a_trusted_proxys_request_id_is_kept_when_it_is_well_formed(alice, sent, kept):
    response = post_login("wrong", HTTP_X_REQUEST_ID=sent)
    assert (response["X-Request-ID"] == sent) is kept
    assert AuditEvent.objects.get().request_id == response["X-Request-ID"]


def test_audit_events_show_their_request_id(alice, client_for, grant_role, make_user):
    logged_in = post_login(PASSWORD)
    auditor = grant_role(make_user("auditor"), VIEW_AUDIT_EVENT)
    result = client_for(auditor).execute("{ auditEvents(first: 1) { edges { node { type requestId } } } }")
    assert result["data"]["auditEvents"]["edges"] == [
        {"node": {"type": "LOGIN_SUCCESS", "requestId": logged_in["X-Request-ID"]}}
    ]


def test_an_event_recorded_outside_a_request_has_no_request_id(alice):
    event = audit.record(audit.EventType.PASSWORD_CHANGED, RequestMeta(), user=alice)
    assert event.request_id == ""


def test_an_internal_server_error_gives_the_request_id(alice, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(login, "log_in", explode)
    response = post_login(PASSWORD)
    error = only_error(response.json())
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": response["X-Request-ID"]}


def test_expected_errors_carry_no_request_id(alice):
    error = only_error(post_login("wrong").json())
    assert error["extensions"] == {"code": "INVALID_CREDENTIALS"}


def test_the_request_id_is_set_only_while_its_request_runs(alice):
    seen = []
    GraphQLClient().execute("{ me { id } }")
    with request_id.bound("outer-request-id") as bound:
        seen.append(request_id.current())
    assert (seen, bound, request_id.current()) == (["outer-request-id"], "outer-request-id", "")


def record(message, *args, exc_info=None):
    record = logging.LogRecord("accounts.audit", logging.INFO, __file__, 1, message, args, exc_info)
    record.request_id = "abcdef0123456789"
    return record


def test_json_log_lines_put_fields_at_the_top_level():
    line = json.loads(JsonFormatter().format(record(LogFields({"event": "LOGIN_FAILURE", "ip": "203.0.113.1"}))))
    assert line["event"] == "LOGIN_FAILURE" and line["ip"] == "203.0.113.1"
    assert line["request_id"] == "abcdef0123456789" and line["logger"] == "accounts.audit"
    assert "message" not in line


def test_json_log_lines_keep_a_plain_message_and_a_traceback_as_fields():
    try:
        raise ValueError("boom")
    except ValueError as error:
        exc_info = (type(error), error, error.__traceback__)
    line = json.loads(JsonFormatter().format(record("Unexpected error at %s", ["me"], exc_info=exc_info)))
    assert line["message"] == "Unexpected error at ['me']"
    assert line["level"] == "INFO"
    assert "ValueError: boom" in line["exception"]


@pytest.mark.slow
def test_one_request_has_the_same_id_in_its_response_log_line_and_audit_event(tmp_path):
    server = GunicornServer(tmp_path, LOG_FORMAT="json", TRUSTED_PROXY_COUNT="1")
    server.create_user("alice", PASSWORD)
    server.start()
    try:
        body = json.dumps({"query": LOGIN, "variables": {"username": "alice", "password": "wrong"}}).encode()
        headers = {"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"}
        answers = {}
        for name, extra in (("from the proxy", {"X-Request-ID": "proxy-request-0001"}), ("generated", {})):
            request = urllib.request.Request(server.url, data=body, headers={**headers, **extra}, method="POST")
            with urllib.request.urlopen(request, timeout=60) as response:
                answers[name] = response.headers["X-Request-ID"]
    finally:
        server.stop()

    assert answers["from the proxy"] == "proxy-request-0001"
    assert GENERATED.fullmatch(answers["generated"])
    # Every line the application wrote is one JSON object; the audit lines carry their request's id.
    lines = [json.loads(line) for line in server.output.read_text().splitlines() if line.strip()]
    audit_lines = {line["request_id"]: line for line in lines if line["logger"] == "accounts.audit"}
    assert set(answers.values()) <= set(audit_lines)
    assert all(audit_lines[each]["event"] == "LOGIN_FAILURE" for each in answers.values())
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        stored = [row[0] for row in database.execute("SELECT request_id FROM accounts_auditevent ORDER BY id")]
    assert stored == [answers["from the proxy"], answers["generated"]]
