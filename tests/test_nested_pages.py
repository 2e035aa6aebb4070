"""User.tasks inside a list of users: one query for every user's page, and each page as if read alone.

The pages of a list of users are read together (schema.relay.pages_of, ROW_NUMBER() OVER
(PARTITION BY owner)); each must be exactly the page that user's own `me { tasks }` gives, with
the same keyset cursors, the same refusals, and the same rules on whose tasks a viewer sees.
"""

import pytest
from django.test import override_settings

from accounts.codenames import VIEW_USER
from tasks.codenames import VIEW_TASK
from tasks.models import Task
from tests.graphql_util import error_codes

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $filter: TaskFilter, $order: TaskOrder) {
  %s
}
fragment Page on User {
  username
  tasks(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { title completed owner { username } } }
  }
}
"""
EVERY_USER = PAGE % "users(first: 10) { edges { node { ...Page } } }"
MINE = PAGE % "me { ...Page }"


@pytest.fixture
def owners(make_user):
    users = [make_user(name) for name in ("ann", "ben", "cy")]
    for user in users:
        Task.objects.bulk_create(
            [Task(owner=user, title=f"{user.username} {index}", completed=index % 2 == 0) for index in range(5)]
        )
    return users


@pytest.fixture
def staff(make_user, client_for):
    return client_for(make_user("staff", is_staff=True))


def pages_by_user(answer):
    return {edge["node"]["username"]: edge["node"]["tasks"] for edge in answer["data"]["users"]["edges"]}


def own_page(client_for, user, variables):
    return client_for(user).execute(MINE, variables)["data"]["me"]["tasks"]


@pytest.mark.parametrize(
    "variables",
    [
        {},
        {"first": 2},
        {"last": 2},
        {"first": 0},
        {"first": 2, "order": {"field": "TITLE", "direction": "ASC"}},
        {"last": 3, "order": {"field": "TITLE", "direction": "DESC"}},
        {"first": 10, "filter": {"completed": True}},
        {"first": 10, "filter": {"search": "2"}},
    ],
)
def test_each_users_page_is_the_page_they_read_alone(owners, staff, client_for, variables):
    together = pages_by_user(staff.execute(EVERY_USER, variables))
    for user in owners:
        assert together[user.username] == own_page(client_for, user, variables), user.username
    assert together["staff"]["totalCount"] == 0


def test_a_cursor_continues_its_own_users_list_and_is_bad_input_in_the_others(owners, staff, client_for):
    ann = owners[0]
    first_page = own_page(client_for, ann, {"first": 2})
    variables = {"first": 2, "after": first_page["pageInfo"]["endCursor"]}
    answer = staff.execute(EVERY_USER, variables)
    assert pages_by_user(answer)["ann"] == own_page(client_for, ann, variables)
    assert pages_by_user(answer)["ben"] is None
    refused = {tuple(error["path"][:4]): error["extensions"] for error in answer["errors"]}
    assert refused[("users", "edges", 1, "node")]["fieldErrors"] == {
        "after": ["This cursor's item is no longer in the list; start again without a cursor."]
    }
    assert len(answer["errors"]) == 3  # ben, cy and staff


def test_after_and_before_together_check_the_far_cursor_per_user(owners, staff, client_for):
    ann = owners[0]
    edges = own_page(client_for, ann, {"first": 5})["edges"]
    variables = {"first": 5, "after": edges[0]["cursor"], "before": edges[4]["cursor"]}
    answer = staff.execute(EVERY_USER, variables)
    assert [edge["node"]["title"] for edge in pages_by_user(answer)["ann"]["edges"]] == [
        edge["node"]["title"] for edge in edges[1:4]
    ]
    assert error_codes(answer) == ["BAD_USER_INPUT"] * 3


def test_a_reader_of_users_sees_only_their_own_tasks(owners, make_user, grant_role, client_for):
    reader = grant_role(make_user("reader"), VIEW_USER)
    Task.objects.create(owner=reader, title="reader's")
    answer = client_for(reader).execute(EVERY_USER, {"first": 10})
    pages = pages_by_user(answer)
    assert [edge["node"]["title"] for edge in pages["reader"]["edges"]] == ["reader's"]
    assert {name for name, page in pages.items() if page is None} == {"ann", "ben", "cy"}
    assert {error["extensions"]["code"] for error in answer["errors"]} == {"FORBIDDEN"}
    assert "ann 0" not in str(answer)


def test_a_reader_of_every_task_sees_every_users_tasks(owners, make_user, grant_role, client_for):
    auditor = grant_role(make_user("auditor"), VIEW_USER, VIEW_TASK)
    pages = pages_by_user(client_for(auditor).execute(EVERY_USER, {"first": 10}))
    assert {name: page["totalCount"] for name, page in pages.items()} == {"ann": 5, "auditor": 0, "ben": 5, "cy": 5}


@override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK]})
def test_the_operators_codenames_apply_to_every_users_page(owners, staff):
    answer = staff.execute(EVERY_USER, {"first": 10})
    assert all(page is None for page in pages_by_user(answer).values())
    assert {error["extensions"]["required"][0] for error in answer["errors"]} == {VIEW_TASK}


def test_an_order_by_a_field_the_viewer_may_not_read_is_refused_for_every_user(owners, staff):
    document = "{ users { edges { node { username tasks(orderBy: {field: TITLE, direction: ASC}) { totalCount } } } } }"
    with override_settings(GRAPHQL_FIELD_CODENAMES={"Task.title": [VIEW_TASK]}):
        answer = staff.execute(document)
    assert all(page is None for page in pages_by_user(answer).values())
    assert error_codes(answer) == ["FORBIDDEN"] * 4
