import logging

import pytest

from accounts import budget, login
from accounts.models import AuditEvent
from schema import limits
from tests.graphql_util import PASSWORD, GraphQLClient, only_error

NEW_PASSWORD = "another secret passphrase"


@pytest.mark.django_db
def test_no_password_or_token_reaches_the_logs_or_the_audit_log(caplog):
    caplog.set_level(logging.DEBUG)
    gql = GraphQLClient()
    register = """mutation($p: String!) { register(input: {username: "carol", email: "carol@example.com",
                  password: $p, passwordConfirm: $p}) { id } }"""
    gql.execute(register, {"p": PASSWORD})
    gql.execute(
        'mutation($p: String!) { tokenAuth(username: "carol", password: $p) { access } }', {"p": "wrong-guess-123"}
    )
    tokens = gql.login("carol")
    rotated = gql.execute(
        "mutation($r: String!) { refreshToken(refresh: $r) { access refresh } }", {"r": tokens["refresh"]}
    )
    gql.execute("mutation($r: String!) { refreshToken(refresh: $r) { access } }", {"r": tokens["refresh"]})
    fresh = gql.login("carol")
    GraphQLClient().authenticate(fresh["access"]).execute(
        "mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) { access } }",
        {"o": PASSWORD, "n": NEW_PASSWORD},
    )

    secrets = [PASSWORD, NEW_PASSWORD, "wrong-guess-123", tokens["access"], tokens["refresh"], fresh["refresh"]]
    secrets += list(rotated["data"]["refreshToken"].values())
    audit_text = " ".join(str(list(event.__dict__.values())) for event in AuditEvent.objects.all())
    assert AuditEvent.objects.count() >= 6
    assert "LOGIN_SUCCESS" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in audit_text


@pytest.mark.django_db
def test_unexpected_errors_are_masked_and_logged_without_the_arguments(alice, monkeypatch, caplog):
    def explode(username, password, meta, otp=None):
        raise RuntimeError(f"database exploded near {password}")

    monkeypatch.setattr(login, "log_in", explode)
    result = GraphQLClient().execute('mutation { tokenAuth(username: "alice", password: "hunter2-secret") { access } }')

    error = only_error(result)
    # Beside the code, only the request's id (tests/test_request_id.py).
    assert error["extensions"].keys() == {"code", "requestId"}
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"] == "Unexpected error."
    assert "exploded" not in str(result) and "Traceback" not in str(result)
    assert "Unexpected error at ['tokenAuth']" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("failing", [(budget, "spend"), (limits, "_count")], ids=["budget store", "node count"])
def test_a_failure_before_any_field_runs_is_masked_and_logged_once(alice, client_for, monkeypatch, caplog, failing):
    # Outside every field, as the budget's store or the database failing before execution would.
    def explode(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to cache.internal:6379")

    monkeypatch.setattr(*failing, explode)
    client = client_for(alice)
    response = client.http.post("/graphql/", {"query": "{ me { username } }"}, "application/json", **client.headers)

    error = only_error(response.json())
    assert error == {
        "message": "Unexpected error.",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": response["X-Request-ID"]},
    }
    assert "cache.internal" not in response.content.decode()
    assert [record.message for record in caplog.records if record.levelno >= logging.ERROR] == [
        "Unexpected error at None"
    ]


@pytest.mark.django_db
def test_with_the_budgets_store_unreachable_the_answer_is_still_a_masked_error(alice, client_for, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to cache.internal:6379")

    monkeypatch.setattr(budget, "_counters", unreachable)  # spent before execution, read for the headers
    client = client_for(alice)
    response = client.http.post("/graphql/", {"query": "{ me { username } }"}, "application/json", **client.headers)

    assert only_error(response.json())["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "X-RateLimit-Remaining" not in response and response["X-Request-ID"]
    assert "cache.internal" not in response.content.decode()
    assert "No X-RateLimit-* headers: the budget could not be read" in caplog.text


@pytest.mark.django_db
def test_expected_errors_are_not_logged_as_errors(caplog):
    GraphQLClient().execute("{ me { username } }")
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
