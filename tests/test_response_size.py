"""The response budget: one request cannot build an answer past GRAPHQL_MAX_RESPONSE_BYTES (issue 9, finding 4).

Leaf values are counted as they are completed, on graphql-core's path and on the shortcut for
plain fields (schema.execution); the first byte over stops the execution, and the answer is one
error instead of a partial result.
"""

import pytest
from django.conf import settings
from django.test import override_settings

from tasks.models import Task
from tests.graphql_util import only_error
from tests.test_node_limit import REVIEWERS_DOCUMENT

DESCRIPTION = "d" * Task.DESCRIPTION_MAX_LENGTH
LEAF_BYTES = 16  # what every leaf adds besides its value: its key and punctuation, about
ERROR_BYTES = 256


def refused_for_size(response, budget):
    assert response.status_code == 200
    assert len(response.content) < 1000, "the answer is the error alone"
    error = only_error(response.json())
    assert response.json()["data"] is None
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED", "maxResponseBytes": budget}
    assert error["message"] == f"The answer would be larger than {budget} bytes; ask for fewer items or fields."


def post(client, query):
    return client.http.post("/graphql/", {"query": query}, content_type="application/json", **client.headers)


def test_the_default_budget_is_ten_megabytes():
    assert settings.GRAPHQL_MAX_RESPONSE_BYTES == 10_000_000


@override_settings(GRAPHQL_MAX_NODES=100_000)
def test_the_reviewers_document_stops_at_the_budget(client_for, alice, caplog):
    # 2 aliases x 40 tasks x 40 of the owner's tasks x 10,000 characters: 32 MB without a budget.
    Task.objects.bulk_create([Task(owner=alice, title=f"task {n}", description=DESCRIPTION) for n in range(40)])
    refused_for_size(post(client_for(alice), REVIEWERS_DOCUMENT), 10_000_000)
    assert not [record for record in caplog.records if record.levelname == "ERROR"], "not a server error"


# (document, what its one leaf counts besides LEAF_BYTES): `description` is read by the shortcut
# for plain fields, `email` (a protected field) by graphql-core; text counts its JSON, anything else 8.
ONE_LEAF = [
    ("{ tasks(first: 1) { edges { node { description } } } }", len('"' + "d" * 100 + '"')),
    ("{ me { email } }", len('"alice@example.com"')),
    ("{ tasks(first: 1) { edges { node { completed } } } }", 8),
]


@pytest.mark.parametrize(("query", "value_bytes"), ONE_LEAF)
def test_each_leaf_counts_and_the_answer_that_fits_is_whole(client_for, alice, query, value_bytes):
    Task.objects.create(owner=alice, title="one", description="d" * 100)
    viewer = client_for(alice)
    exact = LEAF_BYTES + value_bytes
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=exact):
        assert "errors" not in post(viewer, query).json()
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=exact - 1):
        refused_for_size(post(viewer, query), exact - 1)


def test_text_counts_as_json_escapes_it(client_for, alice):
    Task.objects.create(owner=alice, title="one", description='é"\n')  # "\u00e9\"\n": 12 bytes quoted
    viewer = client_for(alice)
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=LEAF_BYTES + 12):
        assert "errors" not in post(viewer, "{ tasks { edges { node { description } } } }").json()
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=LEAF_BYTES + 11):
        refused_for_size(post(viewer, "{ tasks { edges { node { description } } } }"), LEAF_BYTES + 11)


def test_errors_count_too(gql):
    two_errors = '{ a: node(id: "x") { id } b: node(id: "y") { id } }'  # anonymous: UNAUTHENTICATED twice
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=2 * ERROR_BYTES):
        assert len(gql.execute(two_errors)["errors"]) == 2
    with override_settings(GRAPHQL_MAX_RESPONSE_BYTES=2 * ERROR_BYTES - 1):
        refused_for_size(post(gql, two_errors), 2 * ERROR_BYTES - 1)
