"""SQL per request does not grow with the page size, and the viewer's codenames load once.

Queries are those of the data (tests.graphql_util.data_queries): every operation also spends from
its viewer's budget in the rate-limit counters' cache, a table of the database without Redis.
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.codenames import VIEW_USER
from accounts.models import OidcIdentity, User
from schema.relay import to_global_id
from tasks.codenames import VIEW_TASK
from tasks.models import Task
from tests.graphql_util import data_queries

TASKS = """
query($first: Int!) {
  tasks(first: $first) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id title description completed createdAt updatedAt owner { id username email } } }
  }
}
"""
USERS = "query($first: Int!) { users(first: $first) { totalCount edges { node { id username email isStaff } } } }"
USERS_WITH_ROLES = """
query($first: Int!) { users(first: $first) { edges { node { ...details } } } }
fragment details on User { username roles totpEnabled lastLogin }
"""


def loads_codenames(sql):
    """The query that loads a user's codenames (not a query that only asks about one in a subquery)."""
    return '"auth_permission"."codename"' in sql.split(" FROM ", 1)[0]


def queries_for(client, document, first):
    with CaptureQueriesContext(connection) as captured:
        result = client.execute(document, {"first": first})
    assert result["data"] is not None, result
    return data_queries(captured)


@pytest.fixture
def owners(make_user):
    users = [make_user(f"owner{index}") for index in range(10)]
    Task.objects.bulk_create([Task(owner=users[index % 10], title=f"Task {index}") for index in range(150)])
    return users


@pytest.mark.parametrize(
    "viewer, most",
    [
        ("owner", 3),  # session + user, whether tasks.view_task is held (the codenames), page and count
        ("staff", 2),  # staff see every task without asking for codenames
        ("task_viewer", 3),  # others' emails are refused from the codenames, loaded once
        ("superuser", 2),  # superusers hold every codename without a query
    ],
)
def test_a_page_of_100_tasks_costs_what_a_page_of_1_costs(owners, make_user, grant_role, client_for, viewer, most):
    users = {
        "owner": owners[0],
        "staff": make_user("staff", is_staff=True),
        "task_viewer": grant_role(make_user("auditor"), VIEW_TASK),
        "superuser": make_user("root", is_superuser=True),
    }
    Task.objects.bulk_create([Task(owner=owners[0], title=f"Own {index}") for index in range(100)])
    client = client_for(users[viewer])
    # Refusals are counted per client for the audit cap: the first of a minute creates the
    # counter, later ones increment it. Measure two requests that both find it.
    queries_for(client, TASKS, 1)
    one, hundred = queries_for(client, TASKS, 1), queries_for(client, TASKS, 100)
    assert len(one) == len(hundred), hundred
    # Reads of the data only: refusing other owners' emails also writes an audit event, once per
    # request.
    reads = [sql for sql in hundred if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) <= most, hundred
    assert sum(loads_codenames(sql) for sql in hundred) <= 1


def test_a_page_of_100_users_costs_what_a_page_of_1_costs(owners, make_user, grant_role, client_for):
    for index in range(100):
        make_user(f"extra{index:03d}")
    client = client_for(grant_role(make_user("directory"), VIEW_USER))
    one, hundred = queries_for(client, USERS, 1), queries_for(client, USERS, 100)
    assert len(one) == len(hundred) <= 3, hundred
    assert User.objects.count() > 100


def test_the_owner_reads_one_task_with_two_queries(owners, client_for):
    """The viewer (session and user) and the task with its owner; no codename query for one's own task."""
    task = Task.objects.filter(owner=owners[0]).first()
    client = client_for(owners[0])
    with CaptureQueriesContext(connection) as captured:
        result = client.execute(
            "query($id: ID!) { task(id: $id) { title owner { username email } } }",
            {"id": to_global_id("Task", task.pk)},
        )
    assert result["data"]["task"]["owner"]["email"] == owners[0].email
    assert len(data_queries(captured)) == 2


def test_roles_and_two_factor_state_of_100_users_cost_what_1_costs(make_user, client_for):
    for index in range(100):
        make_user(f"extra{index:03d}")
    client = client_for(make_user("staff", is_staff=True))
    one, hundred = queries_for(client, USERS_WITH_ROLES, 1), queries_for(client, USERS_WITH_ROLES, 100)
    assert len(one) == len(hundred) == 3, hundred  # viewer, page, roles of the page


@pytest.mark.parametrize(
    "document",
    [
        "query($id: ID!) { task(id: $id) { title } }",
        "query($id: ID!) { node(id: $id) { id } }",
        'mutation($id: ID!) { updateTask(id: $id, input: {title: "x"}) { id } }',
        "mutation($id: ID!) { deleteTask(id: $id) { deletedId } }",
    ],
)
def test_a_hidden_task_and_a_missing_one_cost_the_same_queries(owners, client_for, document):
    """NOT_FOUND must not tell by its timing whether the task exists: both do the same work."""
    client = client_for(owners[0])
    hidden = Task.objects.filter(owner=owners[1]).first()
    missing = Task.objects.order_by("-pk").first().pk + 1

    def queries_for_task(pk):
        with CaptureQueriesContext(connection) as captured:
            result = client.execute(document, {"id": to_global_id("Task", pk)})
        assert result["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        return [re.sub(r"\b\d+\b", "N", sql) for sql in data_queries(captured)]

    assert queries_for_task(hidden.pk) == queries_for_task(missing)
    assert Task.objects.filter(pk=hidden.pk, title=hidden.title).exists()


@pytest.mark.parametrize("order", ["TITLE", "CREATED_AT"])
@pytest.mark.parametrize("direction", ["first", "last"])
def test_a_page_after_a_cursor_costs_one_query(owners, client_for, order, direction):
    """The cursor holds only its row's id; the row's ordering values are read inside the page's query."""
    document = f"""
    query($cursor: String) {{
      tasks({direction}: 10, {"after" if direction == "first" else "before"}: $cursor,
            orderBy: {{field: {order}, direction: ASC}}) {{ pageInfo {{ endCursor startCursor }} edges {{ node {{ id }} }} }}
    }}
    """
    client = client_for(owners[0])
    with CaptureQueriesContext(connection) as without_cursor:
        page = client.execute(document, {"cursor": None})["data"]["tasks"]
    cursor = page["pageInfo"]["endCursor" if direction == "first" else "startCursor"]
    with CaptureQueriesContext(connection) as with_cursor:
        following = client.execute(document, {"cursor": cursor})["data"]["tasks"]
    assert len(following["edges"]) == 5  # owner0 has 15 tasks
    assert len(data_queries(with_cursor)) == len(data_queries(without_cursor))


@pytest.mark.parametrize(
    "selection, cursor, queries",
    [
        ("edges { node { id } }", False, 2),  # viewer, page
        ("totalCount edges { node { id } }", False, 2),  # the page's query counts the list too
        ("...counted edges { node { id } }", False, 2),  # through a fragment
        ("totalCount edges { node { id } }", True, 3),  # after a cursor the page's rows are not the list's
    ],
)
def test_the_total_is_read_with_the_page_unless_a_cursor_narrows_it(owners, client_for, selection, cursor, queries):
    staff = owners[0]
    staff.is_staff = True
    staff.save()
    client = client_for(staff)
    after = client.execute("{ tasks(first: 1) { pageInfo { endCursor } } }")["data"]["tasks"]["pageInfo"]["endCursor"]
    document = (
        f"query($after: String) {{ tasks(first: 100, after: $after) {{ {selection} }} }}"
        " fragment counted on TaskConnection { totalCount }"
    )
    if "..." not in selection:
        document = document.rsplit(" fragment", 1)[0]
    with CaptureQueriesContext(connection) as captured:
        page = client.execute(document, {"after": after if cursor else None})["data"]["tasks"]
    assert len(data_queries(captured)) == queries, data_queries(captured)
    assert len(page["edges"]) == 100
    if "edges" != selection.split()[0]:
        assert page["totalCount"] == Task.objects.count() == 150


def test_me_costs_the_session_query_alone(owners, client_for):
    """`me` (bench.run's (g)): the session with its user, read once, answers it."""
    client = client_for(owners[0])
    with CaptureQueriesContext(connection) as captured:
        result = client.execute("{ me { id username email } }")
    assert result["data"]["me"]["username"] == owners[0].username
    assert len(data_queries(captured)) == 1, data_queries(captured)


def test_the_benchmarked_list_costs_three_queries(owners, client_for):
    """bench.run's (a): the viewer's 100 tasks with every field and owner { username }, and the total."""
    Task.objects.bulk_create([Task(owner=owners[0], title=f"Own {index}") for index in range(100)])
    client = client_for(owners[0])
    document = """{ tasks(first: 100) { totalCount edges { node {
        id title description completed createdAt updatedAt owner { username } } } } }"""
    with CaptureQueriesContext(connection) as captured:
        page = client.execute(document)["data"]["tasks"]
    assert len(page["edges"]) == 100 and page["totalCount"] == 115
    # The session with its user; the viewer's codenames (do they see every task?); the page.
    assert len(data_queries(captured)) == 3, data_queries(captured)


USERS_WITH_IDENTITIES = "query($first: Int!) { users(first: $first) { edges { node { username identities } } } }"


def test_the_linked_providers_of_100_users_cost_what_1_costs(make_user, client_for):
    for index in range(100):
        user = make_user(f"linked{index:03d}")
        OidcIdentity.objects.create(user=user, provider="acme", issuer="https://id.acme.example", subject=str(index))
    client = client_for(make_user("staff", is_staff=True))
    one, hundred = queries_for(client, USERS_WITH_IDENTITIES, 1), queries_for(client, USERS_WITH_IDENTITIES, 100)
    assert len(one) == len(hundred) == 3, hundred  # viewer, page, identities of the page
