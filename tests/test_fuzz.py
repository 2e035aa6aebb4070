"""Property-based fuzzing of the live schema with hypothesis-graphql (issue item 5).

Valid documents (Mode.POSITIVE) and documents with one schema violation (Mode.NEGATIVE),
queries and mutations, sent anonymously and as a superuser (who passes every rule, so the
resolvers behind them run too). Whatever comes back must be a contract answer: no HTTP 5xx,
no INTERNAL_SERVER_ERROR, no traceback, every error with one of the contract's codes.
The budget is FUZZ_EXAMPLES documents per test, a few seconds in all.
"""

import json
from datetime import UTC

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from accounts.models import AuditEvent
from accounts.sessions import start_session
from schema.relay import to_global_id
from schema.schema import schema
from tasks.models import Task
from tests.graphql_util import GraphQLClient

FUZZ_EXAMPLES = 250
CONTRACT_CODES = {
    "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT", "INVALID_CREDENTIALS", "OTP_REQUIRED",
    "OTP_INVALID", "RATE_LIMITED", "GRAPHQL_VALIDATION_FAILED", "OIDC_FAILED",
}  # fmt: skip

DATETIMES = st.datetimes(timezones=st.just(UTC)).map(lambda moment: moment.isoformat())


def documents(mode, object_ids):
    # Ids are mostly those of real objects, so lookups get past parsing; the rest are noise.
    scalars = {
        "ID": st.one_of(st.sampled_from(object_ids), st.text(max_size=30)).map(nodes.String),
        "DateTime": st.one_of(DATETIMES, st.text(max_size=30)).map(nodes.String),
    }
    return st.one_of(
        queries(schema._schema, custom_scalars=scalars, mode=mode),
        mutations(schema._schema, custom_scalars=scalars, mode=mode),
    )


def assert_contract_answer(client, document, body=None):
    body = json.dumps({"query": document}) if body is None else body
    response = client.http.post("/graphql/", data=body, content_type="application/json", **client.headers)
    assert response.status_code < 500, (document, response.content)
    assert b"Traceback" not in response.content, document
    if response.status_code == 200:
        codes = {error["extensions"]["code"] for error in response.json().get("errors", [])}
        assert codes <= CONTRACT_CODES, (document, response.content)


@pytest.fixture
def seeded(make_user, gql):
    """A superuser, another user with a task, an audit event; and the global ids of all four."""
    admin = make_user("root", is_staff=True, is_superuser=True)
    alice = make_user("alice")
    task = Task.objects.create(owner=alice, title="A task")
    gql.login("alice")
    event = AuditEvent.objects.get()
    ids = [to_global_id("User", admin.pk), to_global_id("User", alice.pk), to_global_id("Task", task.pk)]
    return admin, [*ids, to_global_id("AuditEvent", event.pk)]


FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("as_superuser", [False, True], ids=["anonymous", "superuser"])
@pytest.mark.parametrize("mode", [Mode.POSITIVE, Mode.NEGATIVE], ids=["valid", "one-violation"])
def test_fuzzed_documents_get_only_contract_answers(seeded, mode, as_superuser):
    admin, object_ids = seeded

    def client():
        # A fresh session each time: a fuzzed changePassword or revokeAllTokens ends the last one.
        return GraphQLClient().authenticate(start_session(admin).access) if as_superuser else GraphQLClient()

    @FUZZ
    @given(document=documents(mode, object_ids))
    def check(document):
        assert_contract_answer(client(), document)

    check()


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
REQUEST_KEYS = st.sampled_from(["query", "variables", "operationName", "extensions"])
TYPED_VARIABLES = "query ($a: ID!, $b: TaskFilter) { node(id: $a) { id } tasks(filter: $b) { totalCount } }"


@FUZZ
@given(
    body=st.one_of(
        JSON_VALUES,
        st.dictionaries(REQUEST_KEYS, JSON_VALUES),
        st.fixed_dictionaries(
            {"query": st.just(TYPED_VARIABLES)},
            optional={
                "variables": st.dictionaries(st.sampled_from(["a", "b", "c"]), JSON_VALUES),
                "operationName": JSON_VALUES,
            },
        ),
    )
)
def test_arbitrary_json_bodies_get_only_contract_answers(body):
    assert_contract_answer(GraphQLClient(), str(body), json.dumps(body))
