"""What the endpoint accepts over HTTP (docs/security.md): nothing malformed gets a 5xx."""

import json
import logging

import pytest
from django.test import override_settings

from accounts.models import AuditEvent
from schema.views import NO_SUBSCRIPTIONS_OVER_HTTP
from tests.graphql_util import PASSWORD

LOGIN = 'mutation { tokenAuth(username: "alice", password: "%s") { access } }' % PASSWORD


def post(client, body, content_type="application/json", **extra):
    return client.generic("POST", "/graphql/", body, content_type=content_type, **extra)


def test_a_body_at_the_size_limit_is_read_and_one_byte_more_is_413(client, alice):
    padding = " " * (100 * 1024 - len(json.dumps({"query": LOGIN})))
    body = json.dumps({"query": LOGIN + padding})
    assert len(body) == 100 * 1024
    assert post(client, body).json()["data"]["tokenAuth"]["access"]
    response = post(client, json.dumps({"query": LOGIN + padding + " "}))
    assert response.status_code == 413
    assert AuditEvent.objects.filter(type=AuditEvent.Type.LOGIN_SUCCESS).count() == 1


@override_settings(GRAPHQL_MAX_BODY_BYTES=30)
def test_the_body_limit_comes_from_settings(client):
    assert post(client, json.dumps({"query": "{ __typename }"})).status_code == 200
    assert post(client, json.dumps({"query": "{ __typename __typename }"})).status_code == 413


def test_batched_operations_are_refused_and_run_nothing(client, alice):
    response = post(client, json.dumps([{"query": LOGIN}, {"query": LOGIN}]))
    assert response.status_code == 400
    assert not AuditEvent.objects.exists()


def test_get_runs_queries(client):
    response = client.get("/graphql/", {"query": "{ __typename }"})
    assert response.json() == {"data": {"__typename": "Query"}}


def test_get_never_runs_a_mutation(client, alice):
    response = client.get("/graphql/", {"query": LOGIN})
    assert response.status_code in (400, 405)
    assert not AuditEvent.objects.exists()


DOCUMENT_WITH_A_SUBSCRIPTION = "query Name { __typename } subscription Events { taskEvents { kind } }"


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_subscription_sent_over_http_is_refused_before_it_runs(client, alice, client_for, caplog, method):
    access = client_for(alice).headers["HTTP_AUTHORIZATION"]
    fields = {"query": DOCUMENT_WITH_A_SUBSCRIPTION, "operationName": "Events"}
    with caplog.at_level(logging.ERROR):
        if method == "GET":
            response = client.get("/graphql/", fields, HTTP_AUTHORIZATION=access)
        else:
            response = post(client, json.dumps(fields), HTTP_AUTHORIZATION=access)
    assert response.status_code == 400
    assert response.content.decode() == NO_SUBSCRIPTIONS_OVER_HTTP
    assert not caplog.records, "a refusal, not an unexpected error"

    # The same document's query runs: the operation chosen is refused, not the document.
    fields["operationName"] = "Name"
    response = client.get("/graphql/", fields) if method == "GET" else post(client, json.dumps(fields))
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/graphql", ""],
)
def test_a_post_that_is_not_json_runs_nothing(client, alice, content_type):
    response = post(client, json.dumps({"query": LOGIN}), content_type=content_type)
    assert response.status_code == 400
    assert not AuditEvent.objects.exists()


def test_a_form_post_with_a_query_field_runs_nothing(client, alice):
    response = client.post("/graphql/", {"query": LOGIN})
    assert response.status_code == 400
    assert not AuditEvent.objects.exists()


MALFORMED = [
    b"",
    b"not json",
    b"{",
    b"\xff\xfe\x00garbage",
    b'"a string"',
    b"42",
    b"null",
    b"true",
    b"[]",
    b"[1, 2]",
    b"{}",
    b'{"query": null}',
    b'{"query": 5}',
    b'{"query": ["{ __typename }"]}',
    b'{"query": {"a": 1}}',
    b'{"query": "{ __typename }", "variables": [1]}',
    b'{"query": "{ __typename }", "variables": "x"}',
    b'{"query": "{ __typename }", "operationName": 5}',
    b'{"query": "{ __typename }", "operationName": {"a": 1}}',
    b'{"query": "{ __typename }", "operationName": "Missing"}',
    b'{"query": "{ __typename }", "extensions": [1]}',
    b'{"query": "query A { __typename } query B { __typename }"}',
    b'{"query": "query ($id: ID!) { node(id: $id) { id } }", "variables": {"id": {"nested": [1]}}}',
    b'{"query": "\\u0000"}',
    b'{"query": "mutation($p: String!) { tokenAuth(username: \\"a\\", password: $p) { access } }", "variables": {"p": "\\ud800"}}',
    b'{"query": "{ __typename }", "variables": {"\\udfff": 1}}',
    b"[" * 50_000 + b"]" * 50_000,
    b'{"query": ' + b"[" * 40_000 + b"]" * 40_000 + b"}",
    b'{"variables": ' + b'{"a":' * 20_000 + b"1" + b"}" * 20_000 + b', "query": "{ __typename }"}',
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_bodies_get_a_client_error_never_a_server_error(client, body):
    response = post(client, body)
    assert response.status_code < 500
    assert b"Traceback" not in response.content
    if response.status_code == 200:
        codes = [error["extensions"]["code"] for error in response.json().get("errors", [])]
        assert "INTERNAL_SERVER_ERROR" not in codes


@pytest.mark.parametrize(
    "params", [{"query": "{ __typename }", "variables": "not json"}, {"query": "{ __typename }", "variables": "[1]"}]
)
def test_malformed_get_requests_get_a_client_error(client, params):
    assert client.get("/graphql/", params).status_code == 400


def test_invalid_variable_values_are_the_clients_mistake(gql, caplog):
    result = gql.execute("query ($id: ID!) { node(id: $id) { id } }", {"id": {"nested": [1]}})
    assert result["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], "not a server error"


def test_other_methods_are_refused(client):
    assert client.put("/graphql/", "{}", content_type="application/json").status_code == 405
    assert client.delete("/graphql/").status_code == 405


NUL_INPUTS = [
    ('mutation ($s: String!) { tokenAuth(username: $s, password: "x") { access } }', "INVALID_CREDENTIALS"),
    ("query ($s: String) { users(search: $s) { totalCount } }", None),
    ("query ($s: String) { tasks(filter: {search: $s}) { totalCount } }", None),
    ("mutation ($s: String!) { refreshToken(refresh: $s) { access } }", "UNAUTHENTICATED"),
]


@pytest.mark.parametrize(("query", "code"), NUL_INPUTS)
def test_nul_characters_are_answered_without_a_server_error(client_for, make_user, query, code):
    # PostgreSQL refuses NUL in text, even in a comparison: this failed there with a server error.
    viewer = client_for(make_user("root", is_staff=True, is_superuser=True))
    result = viewer.execute(query, {"s": "ali\x00ce"})
    assert [error["extensions"]["code"] for error in result.get("errors", [])] == ([code] if code else [])


def test_a_lone_surrogate_in_variables_is_refused_but_an_escaped_pair_is_text(as_user, alice):
    client = as_user(alice)
    create = "mutation($t: String!) { createTask(input: {title: $t}) { title } }"

    def send(escaped_title):
        body = '{"query": %s, "variables": {"t": "%s"}}' % (json.dumps(create), escaped_title)
        return client.http.post("/graphql/", body, content_type="application/json", **client.headers)

    assert send("\\ud800").status_code == 400
    accepted = send("\\ud83d\\ude00 party")
    assert accepted.json() == {"data": {"createTask": {"title": "\U0001f600 party"}}}


def nested(levels):
    """JSON text of `levels` nested containers, alternating objects and lists."""
    opening = "".join("[" if level % 2 else '{"k":' for level in range(levels))
    closing = "".join("]" if level % 2 else "}" for level in reversed(range(levels)))
    return opening + "1" + closing


def body_with(member, levels_inside):
    """A body whose `member` holds JSON nested so that the whole body is `levels_inside` + 2 levels deep."""
    return '{"query": "{ __typename }", "%s": {"a": %s}}' % (member, nested(levels_inside))


@pytest.mark.parametrize("member", ["variables", "extensions"])
def test_json_nested_up_to_the_limit_is_read_and_one_level_more_is_400(client, member):
    from schema.views import MAX_JSON_DEPTH

    assert MAX_JSON_DEPTH == 64
    accepted = post(client, body_with(member, MAX_JSON_DEPTH - 2))
    assert accepted.json() == {"data": {"__typename": "Query"}}
    refused = post(client, body_with(member, MAX_JSON_DEPTH - 1))
    assert refused.status_code == 400
    assert refused.content.decode() == "The request JSON is nested deeper than 64 levels."


@pytest.mark.parametrize("member", ["variables", "extensions"])
def test_json_nested_near_the_decoders_own_limit_is_400_not_500(client, member):
    # The decoder follows about 940 levels (less the stack in use); re-encoding the body for the
    # surrogate check then failed with a RecursionError at one depth just under that.
    client.raise_request_exception = False
    answers = {levels: post(client, body_with(member, levels)) for levels in [*range(850, 1000), 20_000]}
    assert [levels for levels, response in answers.items() if response.status_code >= 500] == []
    assert {response.content.decode() for response in answers.values()} == {
        "The request JSON is nested deeper than 64 levels."
    }


def test_get_variables_and_extensions_have_the_same_depth_limit(client):
    for name in ("variables", "extensions"):
        assert client.get("/graphql/", {"query": "{ __typename }", name: nested(64)}).status_code == 200
        assert client.get("/graphql/", {"query": "{ __typename }", name: nested(65)}).status_code == 400
        assert client.get("/graphql/", {"query": "{ __typename }", name: nested(3000)}).status_code == 400
