"""Pages read as rows of the selected columns (schema.columns) answer what model instances answer."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from schema import relay
from tasks.models import Task
from tests.graphql_util import data_queries

DOCUMENTS = [
    # Columns only: read as rows.
    "{ tasks(first: 5) { totalCount edges { cursor node { id title description completed createdAt updatedAt owner { username } } } } }",
    """{ tasks(last: 4) { pageInfo { hasNextPage endCursor } edges { node { ...task __typename t: title } } } }
    fragment task on Task { id ... on Task { completed } owner { id u: username __typename } }""",
    'query($no: Boolean!) { tasks(first: 5, filter: {search: "a"}) { edges { node { title @skip(if: $no) updatedAt @include(if: $no) } } } }',
    "{ tasks(first: 5, orderBy: {field: TITLE, direction: ASC}) { edges { node { title } } } }",
    "{ users(first: 5) { totalCount edges { node { id username isStaff dateJoined } } } }",
    "{ tasks(first: 2) { a: edges { node { title } } b: edges { node { id owner { username } } } } }",
    # Something other than a column among the nodes' fields: read as instances.
    "{ tasks(first: 5) { edges { node { title owner { username email } } } } }",
    "{ users(first: 5) { edges { node { username roles lastLogin } } } }",
    "{ users(first: 5) { edges { node { username tasks(first: 2) { edges { node { title } } } } } } }",
]
ROWS = [True, True, True, True, True, True, False, False, False]


@pytest.fixture
def viewer(make_user, grant_role):
    viewer = grant_role(make_user("auditor", is_staff=True), "tasks.view_task", "accounts.view_user")
    for owner in (viewer, make_user("owner"), make_user("another")):
        Task.objects.bulk_create(
            [Task(owner=owner, title=f"{owner.username} {index}", completed=index % 2 == 0) for index in range(4)]
        )
    return viewer


def reads_instances(sql):
    """Whether a page query reads whole rows of users (their password hash among them), as instances do."""
    return '"accounts_user"."password"' in sql and '"accounts_loginsession"' not in sql


@pytest.mark.parametrize("document, as_rows", list(zip(DOCUMENTS, ROWS, strict=True)))
@pytest.mark.parametrize("variables", [{"no": False}, {"no": True}])
def test_rows_answer_what_instances_answer(viewer, client_for, monkeypatch, document, as_rows, variables):
    client = client_for(viewer)
    with CaptureQueriesContext(connection) as with_plans:
        planned = client.execute(document, variables if "$no" in document else None)
    monkeypatch.setattr(relay, "column_plan", lambda *arguments: None)
    with CaptureQueriesContext(connection) as without_plans:
        instances = client.execute(document, variables if "$no" in document else None)
    assert planned["data"] is not None, planned
    assert json.dumps(planned) == json.dumps(instances)
    assert len(data_queries(with_plans)) == len(data_queries(without_plans))
    page_queries = [sql for sql in data_queries(with_plans) if '"tasks_task"' in sql or 'FROM "accounts_user"' in sql]
    assert any(reads_instances(sql) for sql in page_queries) is not as_rows, page_queries
