"""Pages read as rows of the selected columns (schema.columns) answer what model instances answer."""

import json

import pytest
from django.db import connection
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from schema import relay
from schema.columns import ColumnPlan, _ModelColumns
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


# A document of its own: plans (and the SQL they keep) belong to the parsed document.
KEPT_SQL_PAGE = """query($first: Int, $after: String, $search: String, $done: Boolean) {
  tasks(first: $first, after: $after, filter: {search: $search, completed: $done}) {
    totalCount edges { cursor node { id kept: title completed owner { username } } } } }"""
PAGE_SHAPES = [
    {"first": 3},
    {"first": 2},
    {"first": 3, "search": "1"},
    {"first": 3, "done": True},
    {"first": 2, "after": 0},
]


def compiled_pages(monkeypatch):
    """The SQL of every page of tasks Django's compiler compiles from now on (not the subqueries
    that read a cursor's row: the WHERE of a page after a cursor is compiled for each request)."""
    compile_as_django_does = SQLCompiler.as_sql
    compiled = []

    def recording(compiler, *args, **kwargs):
        sql, parameters = compile_as_django_does(compiler, *args, **kwargs)
        if '"tasks_task"."id" AS "pk"' in sql and "LIMIT" in sql:
            compiled.append(sql)
        return sql, parameters

    monkeypatch.setattr(SQLCompiler, "as_sql", recording)
    return compiled


def test_a_pages_sql_is_compiled_once_per_shape_and_run_with_each_requests_values(viewer, client_for, monkeypatch):
    owners = [client_for(User.objects.get(username=name)) for name in ("owner", "another")]

    def answers(client):
        """The answer to each shape, the cursor of `after` being the client's own first task's."""
        first = client.execute(KEPT_SQL_PAGE, {"first": 1})["data"]["tasks"]["edges"][0]["cursor"]
        return [
            client.execute(KEPT_SQL_PAGE, {**shape, "after": first} if "after" in shape else shape)
            for shape in PAGE_SHAPES
        ]

    with monkeypatch.context() as without_plans:
        without_plans.setattr(relay, "column_plan", lambda *arguments: None)
        expected = [answers(client) for client in owners]
    compiled = compiled_pages(monkeypatch)
    first_owners = answers(owners[0])
    assert len(compiled) == 1 + len(PAGE_SHAPES)  # first: 1, then each shape once
    second_owners = answers(owners[1])
    assert len(compiled) == 1 + len(PAGE_SHAPES)  # the same shapes: no SQL compiled again
    assert [first_owners, second_owners] == expected
    titles = {edge["node"]["kept"] for answer in second_owners for edge in answer["data"]["tasks"]["edges"]}
    assert titles and all(title.startswith("another ") for title in titles)


def columns_of_tasks():
    columns = _ModelColumns(Task)
    columns.attributes.append("title")
    return ColumnPlan(columns)


def test_a_page_that_django_compiles_with_other_parameters_is_refused(viewer, sql_with_a_parameter_more):
    listed = Task.objects.filter(owner=viewer)
    with pytest.raises(RuntimeError, match="unlike what a column plan expects"):
        columns_of_tasks().rows(listed, lambda listed: listed.order_by("-id"), ("-id",), 3)


@pytest.mark.parametrize("more", ["distinct", "reverse"])
def test_a_list_with_more_than_filters_is_compiled_each_time(viewer, monkeypatch, more):
    plan, listed = columns_of_tasks(), getattr(Task.objects.filter(owner=viewer), more)()
    compiled = compiled_pages(monkeypatch)
    pages = [plan.rows(listed, lambda listed: listed.order_by("-id"), ("-id",), 3) for _ in range(2)]
    assert len(compiled) == 2
    expected = list(listed.order_by("-id").values_list("pk", "title")[:3])
    assert [[(row.pk, row.title) for row in page] for page in pages] == [expected, expected]
