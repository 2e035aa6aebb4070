"""Each viewer's budget of points per hour (API.md section 14): cost, charge, refusal, dryRun, headers."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from accounts import budget
from accounts.models import AuditEvent
from schema.budget.charge import points
from schema.node_count import Count
from tasks.codenames import VIEW_TASK
from tasks.models import Task
from tests.graphql_util import GraphQLClient, error_codes, only_error

RATE_LIMIT = "{ rateLimit { limit cost remaining used resetAt nodeCount } }"
START = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
# 1 + 83 × 3 = 250 requests: 3 points; 83 nodes.
COSTS_THREE = """
{ rateLimit { cost nodeCount }
  tasks(first: 83) { edges { node { owner {
    a: tasks(first: 0) { totalCount } b: tasks(first: 0) { totalCount } c: tasks(first: 0) { totalCount }
  } } } } }
"""


@pytest.mark.parametrize(
    "requests, cost",
    [(0, 1), (1, 1), (149, 1), (150, 2), (250, 3), (251, 3), (5101, 51)],  # GitHub's example: 5,101 → 51
)
def test_an_operation_costs_its_requests_over_100_rounded_half_up_and_at_least_1(requests, cost):
    assert points(Count(nodes=0, requests=requests)) == cost


def test_the_first_operation_of_an_hour_costs_1_and_starts_the_window(client_for, alice):
    with time_machine.travel(START, tick=False):
        result = client_for(alice).execute(RATE_LIMIT)
    assert result["data"]["rateLimit"] == {
        "limit": 5000,
        "cost": 1,
        "remaining": 4999,
        "used": 1,
        "resetAt": "2031-05-01T13:00:00+00:00",
        "nodeCount": 0,
    }


def test_cost_and_node_count_are_those_of_the_whole_operation(client_for, alice):
    Task.objects.create(owner=alice, title="one")
    client = client_for(alice)
    assert client.execute(COSTS_THREE)["data"]["rateLimit"] == {"cost": 3, "nodeCount": 83}
    assert client.execute(RATE_LIMIT)["data"]["rateLimit"]["used"] == 4


def test_a_mutation_costs_at_least_1(client_for, alice):
    client = client_for(alice)
    client.execute('mutation { createTask(input: {title: "x"}) { id } }')
    assert client.execute(RATE_LIMIT)["data"]["rateLimit"]["used"] == 2


def test_a_user_has_one_budget_whatever_the_credential(client_for, alice, bob):
    client_for(alice).execute(RATE_LIMIT)
    key = GraphQLClient().execute(
        'mutation { createApiKey(name: "k", password: "correct horse battery staple") { secret } }',
        HTTP_AUTHORIZATION=client_for(alice).headers["HTTP_AUTHORIZATION"],
    )["data"]["createApiKey"]["secret"]
    by_key = GraphQLClient().execute(RATE_LIMIT, HTTP_X_API_KEY=key)
    assert by_key["data"]["rateLimit"]["used"] == 3  # another session, then the key
    assert client_for(bob).execute(RATE_LIMIT)["data"]["rateLimit"]["used"] == 1


def test_anonymous_requests_and_refused_credentials_spend_their_addresses_budget(client_for, alice):
    anonymous = GraphQLClient()
    anonymous.execute(RATE_LIMIT, REMOTE_ADDR="198.51.100.7")
    refused = GraphQLClient().authenticate("not-a-token")
    answer = refused.execute(RATE_LIMIT, REMOTE_ADDR="198.51.100.7")
    assert answer["data"]["rateLimit"]["used"] == 2
    assert GraphQLClient().execute(RATE_LIMIT, REMOTE_ADDR="198.51.100.8")["data"]["rateLimit"]["used"] == 1
    assert client_for(alice).execute(RATE_LIMIT, REMOTE_ADDR="198.51.100.7")["data"]["rateLimit"]["used"] == 1


@override_settings(GRAPHQL_POINTS_PER_HOUR=5)
def test_an_operation_costing_more_than_remains_is_refused_and_nothing_runs(client_for, alice):
    # A fresh session after each move of the clock: access tokens live five minutes.
    with time_machine.travel(START, tick=False) as clock:
        assert client_for(alice).execute(COSTS_THREE)["data"]["rateLimit"]["cost"] == 3
        clock.shift(timedelta(minutes=20))
        client = client_for(alice)
        result = client.execute(COSTS_THREE)
        error = only_error(result)
        assert result["data"] is None
        assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": 40 * 60}
        assert "costs 3 points and 2 of 5 remain" in error["message"]
        assert AuditEvent.objects.filter(type="RATE_LIMITED", user=alice).exists()

        assert client.execute('mutation { createTask(input: {title: "x"}) { id } }')["data"]["createTask"]["id"]
        client.execute('mutation { createTask(input: {title: "y"}) { id } }')
        assert error_codes(client.execute('mutation { createTask(input: {title: "z"}) { id } }')) == ["RATE_LIMITED"]
        assert sorted(Task.objects.values_list("title", flat=True)) == ["x", "y"]

        clock.shift(timedelta(minutes=40))  # the window that started at START has ended
        assert client_for(alice).execute(RATE_LIMIT)["data"]["rateLimit"]["used"] == 1


@override_settings(GRAPHQL_POINTS_PER_HOUR=2)
def test_an_operation_costing_more_than_the_whole_budget_starts_no_window(client_for, alice):
    client = client_for(alice)
    with time_machine.travel(START, tick=False) as clock:
        assert error_codes(client.execute(COSTS_THREE)) == ["RATE_LIMITED"]
        clock.shift(timedelta(minutes=30))
        assert client.execute(RATE_LIMIT)["data"]["rateLimit"]["resetAt"] == "2031-05-01T13:30:00+00:00"


@pytest.mark.parametrize(
    "request_for",
    [
        pytest.param(lambda client: client.execute("{ nothing }"), id="invalid"),
        pytest.param(lambda client: client.execute("{ tasks(first: 100) { edges { node { owner {"
                                                   " tasks(first: 100) { totalCount } } } } } }"), id="node limit"),
        pytest.param(lambda client: client.execute("query($n: Int) { tasks(first: $n) { totalCount } }", {"n": "x"}),
                     id="variables"),
        pytest.param(lambda client: client.http.post("/graphql/", '{"documentId": "x"}', "application/json",
                                                     **client.headers).json(), id="unknown persisted id"),
        pytest.param(lambda client: client.http.get("/graphql/", {"query": "mutation { revokeAllTokens }"},
                                                    **client.headers), id="GET mutation"),
    ],
)  # fmt: skip
def test_a_refused_operation_spends_nothing(client_for, alice, request_for):
    client = client_for(alice)
    request_for(client)
    assert client.execute(RATE_LIMIT)["data"]["rateLimit"]["used"] == 1


@override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
def test_an_operation_refused_by_the_operators_codenames_spends_nothing(client_for, alice):
    client = client_for(alice)
    assert error_codes(client.execute("{ tasks { edges { node { description } } } }")) == ["FORBIDDEN"]
    assert client.execute(RATE_LIMIT)["data"]["rateLimit"]["used"] == 1


def test_a_dry_run_costs_nothing_and_runs_nothing_else(client_for, alice):
    Task.objects.create(owner=alice, title="one")
    client = client_for(alice)
    client.execute(RATE_LIMIT)
    document = """
    query($dry: Boolean) {
      tasks(first: 100) { totalCount edges { node { owner { tasks(first: 50) { totalCount } } } } }
      ...Limits
    }
    fragment Limits on Query { rateLimit(dryRun: $dry) { cost used remaining nodeCount } }
    """
    with CaptureQueriesContext(connection) as queries:
        result = client.execute(document, {"dry": True})
    assert result == {"data": {"rateLimit": {"cost": 1, "used": 1, "remaining": 4999, "nodeCount": 5100}}}
    assert not [query for query in queries.captured_queries if "tasks_task" in query["sql"]]
    ran = client.execute(document, {"dry": False})
    assert ran["data"]["tasks"]["totalCount"] == 1
    assert ran["data"]["rateLimit"]["used"] == 2


@override_settings(GRAPHQL_POINTS_PER_HOUR=3)
def test_a_dry_run_answers_when_the_budget_is_spent(client_for, alice):
    client = client_for(alice)
    client.execute(COSTS_THREE)
    assert error_codes(client.execute(RATE_LIMIT)) == ["RATE_LIMITED"]
    dry_run = client.execute("{ rateLimit(dryRun: true) { cost remaining used } me { username } }")
    assert dry_run == {"data": {"rateLimit": {"cost": 1, "remaining": 0, "used": 3}}}


# Headers, on every answer of /graphql/.

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset")


def rate_limit_headers(response):
    limit, remaining, used, reset = (int(response[header]) for header in HEADERS)
    assert used + remaining == limit
    return {"limit": limit, "remaining": remaining, "used": used, "reset": reset}


def test_headers_agree_with_rate_limit(client_for, alice):
    client = client_for(alice)
    with time_machine.travel(START, tick=False):
        for used in (1, 2):
            body = json.dumps({"query": RATE_LIMIT})
            response = client.http.post("/graphql/", body, "application/json", **client.headers)
            field = response.json()["data"]["rateLimit"]
            assert rate_limit_headers(response) == {
                "limit": 5000,
                "remaining": 4999 - (used - 1),
                "used": used,
                "reset": int((START + timedelta(hours=1)).timestamp()),
            }
            assert (field["used"], field["remaining"]) == (used, 5000 - used)


ANSWERS = {
    "data": lambda http: http.post("/graphql/", '{"query": "{ __typename }"}', "application/json"),
    "GraphQL error": lambda http: http.post("/graphql/", '{"query": "{ nothing }"}', "application/json"),
    "persisted query not found": lambda http: http.post("/graphql/", '{"doc_id": "x"}', "application/json"),
    "not JSON (400)": lambda http: http.post("/graphql/", "{", "application/json"),
    "form post (400)": lambda http: http.post("/graphql/", {"query": "{ __typename }"}),
    "GET mutation (400)": lambda http: http.get("/graphql/", {"query": "mutation { revokeAllTokens }"}),
    "too large (413)": lambda http: http.post("/graphql/", "x" * 200_000, "application/json"),
    "PUT (405)": lambda http: http.put("/graphql/", "{}", "application/json"),
    "GraphiQL off (404)": lambda http: http.get("/graphql/", HTTP_ACCEPT="text/html"),
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_every_answer_carries_the_rate_limit_headers(client_for, alice, answer):
    with time_machine.travel(START, tick=False):
        client = client_for(alice)
        client.execute(RATE_LIMIT)
        response = ANSWERS[answer](Client(**client.headers))
    headers = rate_limit_headers(response)
    assert headers["used"] == (2 if answer == "data" else 1)


@override_settings(GRAPHIQL=True)
def test_the_graphiql_page_carries_the_headers_too(client_for, alice):
    response = Client().get("/graphql/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("text/html")
    assert rate_limit_headers(response)["used"] == 0


@override_settings(GRAPHQL_POINTS_PER_HOUR=1)
def test_a_refusal_over_budget_carries_the_headers_too(client_for, alice):
    client = client_for(alice)
    client.execute(RATE_LIMIT)
    response = client.http.post("/graphql/", json.dumps({"query": RATE_LIMIT}), "application/json", **client.headers)
    assert error_codes(response.json()) == ["RATE_LIMITED"]
    assert rate_limit_headers(response) | {"reset": 0} == {"limit": 1, "remaining": 0, "used": 1, "reset": 0}


def test_before_anything_is_spent_the_window_would_start_now(client_for, alice):
    with time_machine.travel(START, tick=False):
        response = Client().post("/graphql/", "{", "application/json")
    assert rate_limit_headers(response) == {
        "limit": 5000, "remaining": 5000, "used": 0, "reset": int(START.timestamp()) + 3600
    }  # fmt: skip


def test_a_lowered_limit_never_shows_more_used_than_the_limit(client_for, alice):
    client = client_for(alice)
    for _ in range(3):
        client.execute(RATE_LIMIT)
    with override_settings(GRAPHQL_POINTS_PER_HOUR=2):
        assert budget.current(f"user:{alice.pk}") == budget.Budget(2, 2, budget.current(f"user:{alice.pk}").reset_at)
