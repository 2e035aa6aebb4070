"""The node limit (docs/security.md): the nodes a document may ask for, counted before anything runs.

For every connection field, the product of its first/last (the default page size when neither
is given) and that of every connection around it, summed; variables count with their values.
"""

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.graphql_util import error_codes, only_error

TASK = "id title description"
# The outside reviewer's document (issue 9): 171 bytes that answered 201 MB.
REVIEWERS_DOCUMENT = (
    "{a:tasks(first:100){edges{node{" + TASK + " owner{tasks(first:100){edges{node{" + TASK + "}}}}}}}"
    "b:tasks(first:100){edges{node{" + TASK + " owner{tasks(first:100){edges{node{" + TASK + "}}}}}}}}"
)
NESTED = """
query ($outer: Int, $inner: Int) { tasks(first: $outer) { edges { node { owner { tasks(first: $inner) { totalCount } } } } } }
"""


@pytest.fixture
def viewer(client_for, alice):
    return client_for(alice)


def refusal(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", error
    assert result["data"] is None
    return error


def test_the_default_is_ten_thousand_nodes():
    assert settings.GRAPHQL_MAX_NODES == 10_000


def test_the_reviewers_document_is_refused_and_nothing_runs(viewer):
    with CaptureQueriesContext(connection) as queries:
        error = refusal(viewer.execute(REVIEWERS_DOCUMENT))
    assert (error["extensions"]["nodeCount"], error["extensions"]["maxNodes"]) == (20_200, 10_000)
    assert error["message"] == "The query may return 20200 nodes; at most 10000 are allowed."
    assert not [query for query in queries.captured_queries if "tasks_task" in query["sql"]]


def test_exactly_the_limit_runs_and_one_page_more_is_refused(viewer):
    at_limit = "{ tasks(first: 100) { edges { node { owner { tasks(first: 99) { totalCount } } } } } }"
    assert viewer.execute(at_limit) == {"data": {"tasks": {"edges": []}}}
    error = refusal(viewer.execute(at_limit.replace("first: 99", "first: 100")))
    assert error["extensions"]["nodeCount"] == 10_100


def test_variables_count_with_their_values_in_one_cached_shape(viewer):
    assert "errors" not in viewer.execute(NESTED, {"outer": 99, "inner": 100})  # 99 + 99 * 100
    assert refusal(viewer.execute(NESTED, {"outer": 100, "inner": 100}))["extensions"]["nodeCount"] == 10_100
    assert "errors" not in viewer.execute(NESTED, {"outer": 100, "inner": None})  # 100 + 100 * 20
    with_defaults = NESTED.replace("$outer: Int", "$outer: Int = 100").replace("$inner: Int", "$inner: Int = 100")
    assert refusal(viewer.execute(with_defaults))["extensions"]["nodeCount"] == 10_100


def test_connections_without_first_or_last_count_the_default_page_size(viewer):
    three_deep = (
        "{ tasks { edges { node { owner { tasks { edges { node { owner { tasks { totalCount } } } } } } } } } }"
    )
    assert "errors" not in viewer.execute(three_deep)  # 20 + 400 + 8000
    with override_settings(GRAPHQL_PAGE_SIZE=22):
        assert refusal(viewer.execute(three_deep))["extensions"]["nodeCount"] == 22 + 22**2 + 22**3


def test_last_counts_like_first(viewer):
    query = "{ tasks(last: 100) { edges { node { owner { tasks(last: 100) { totalCount } } } } } }"
    error = refusal(viewer.execute(query))
    assert error["extensions"]["nodeCount"] == 10_100


def test_a_fragment_counts_with_the_connections_around_each_spread(viewer):
    query = """
    { tasks(first: 50) { edges { node { ...OwnersTasks } } } me { ...Tasks } }
    fragment OwnersTasks on Task { owner { ...Tasks } }
    fragment Tasks on User { tasks(first: 100) { totalCount } }
    """
    assert "errors" not in viewer.execute(query)
    with override_settings(GRAPHQL_MAX_NODES=5149):
        assert refusal(viewer.execute(query))["extensions"]["nodeCount"] == 50 + 50 * 100 + 100


def test_a_negative_page_size_does_not_buy_room_for_another(viewer):
    query = (
        "{ small: tasks(first: -100) { edges { node { owner { tasks(first: 100) { totalCount } } } } }"
        "  large: tasks(first: 100) { edges { node { owner { tasks(first: 100) { totalCount } } } } } }"
    )
    assert refusal(viewer.execute(query))["extensions"]["nodeCount"] == 10_100


def test_users_and_audit_events_are_connections_too(client_for, make_user):
    root = client_for(make_user("root", is_staff=True, is_superuser=True))
    query = """
    { users(first: 100) { edges { node { tasks(first: 100) { totalCount } } } } auditEvents(first: 1) { totalCount } }
    """
    assert refusal(root.execute(query))["extensions"]["nodeCount"] == 10_101


@override_settings(GRAPHQL_MAX_NODES=99)
def test_the_limit_comes_from_settings(viewer):
    assert "errors" not in viewer.execute("{ tasks(first: 99) { totalCount } }")
    assert refusal(viewer.execute("{ tasks(first: 100) { totalCount } }"))["extensions"]["maxNodes"] == 99


def test_a_document_with_other_errors_is_not_counted(viewer):
    # Variables that do not fit their types are reported as such; the count needs their values.
    assert error_codes(viewer.execute(NESTED, {"outer": "many"})) == ["GRAPHQL_VALIDATION_FAILED"]
    assert "nodeCount" not in only_error(viewer.execute(NESTED, {"outer": "many"}))["extensions"]
