"""Relay connections: cursors, page sizes, ordering, filters (through tasks and users)."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone

from schema.relay import to_global_id
from tasks.models import Task
from tests.graphql_util import only_error

PAGE = """
query($first: Int, $after: String, $last: Int, $before: String, $filter: TaskFilter, $orderBy: TaskOrder) {
  tasks(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title } }
  }
}
"""

ORDERINGS = [(field, direction) for field in ("CREATED_AT", "UPDATED_AT", "TITLE") for direction in ("ASC", "DESC")]


@pytest.fixture
def owner(alice):
    return alice


@pytest.fixture
def many_tasks(owner, bob):
    """250 tasks of the owner whose order keys tie in groups, so the tie-breaking is exercised."""
    Task.objects.bulk_create(
        [Task(owner=owner, title=f"Task {index % 50:03d}", completed=index % 3 == 0) for index in range(250)]
    )
    Task.objects.create(owner=bob, title="Not yours")
    tasks = list(Task.objects.filter(owner=owner).order_by("pk"))
    start = timezone.now() - timedelta(days=1)
    for index, task in enumerate(tasks):
        task.created_at = start + timedelta(seconds=index // 4)
        task.updated_at = start + timedelta(minutes=(index * 7) % 25)
    Task.objects.bulk_update(tasks, ["created_at", "updated_at"])
    return tasks


def expected_ids(tasks, field, direction):
    attribute = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at", "TITLE": "title"}[field]
    ordered = sorted(tasks, key=lambda task: (getattr(task, attribute), task.pk), reverse=direction == "DESC")
    return [to_global_id("Task", task.pk) for task in ordered]


def tasks_page(client, **variables):
    result = client.execute(PAGE, variables)
    assert "errors" not in result, result
    return result["data"]["tasks"]


@pytest.mark.parametrize("field, direction", ORDERINGS)
def test_forward_and_backward_return_every_task_once_in_order(client_for, owner, many_tasks, field, direction):
    client = client_for(owner)
    order = {"field": field, "direction": direction}
    expected = expected_ids(many_tasks, field, direction)

    forward, after, pages = [], None, 0
    while True:
        page = tasks_page(client, first=100, after=after, orderBy=order)
        forward += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] == (after is not None)
        assert page["totalCount"] == 250
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert forward == expected
    assert pages == 3

    backward, before = [], None
    while True:
        page = tasks_page(client, last=40, before=before, orderBy=order)
        backward = [edge["node"]["id"] for edge in page["edges"]] + backward
        assert page["pageInfo"]["hasNextPage"] == (before is not None)
        assert page["totalCount"] == 250
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert backward == expected


def test_default_order_is_newest_first_and_default_page_is_20(client_for, owner, many_tasks):
    page = tasks_page(client_for(owner))
    assert len(page["edges"]) == 20
    assert [edge["node"]["id"] for edge in page["edges"]] == expected_ids(many_tasks, "CREATED_AT", "DESC")[:20]
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["startCursor"] == page["edges"][0]["cursor"]
    assert page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"]


def test_after_and_before_together_give_the_rows_between(client_for, owner, many_tasks):
    client = client_for(owner)
    order = {"field": "TITLE", "direction": "ASC"}
    first = tasks_page(client, first=30, orderBy=order)["edges"]
    between = tasks_page(client, after=first[4]["cursor"], before=first[10]["cursor"], orderBy=order)
    assert [edge["node"]["id"] for edge in between["edges"]] == [edge["node"]["id"] for edge in first[5:10]]


def test_rows_added_or_removed_before_a_cursor_do_not_shift_the_next_page(client_for, owner, many_tasks):
    client = client_for(owner)
    order = {"field": "CREATED_AT", "direction": "ASC"}
    first = tasks_page(client, first=10, orderBy=order)
    earliest = Task.objects.create(owner=owner, title="Backdated")
    Task.objects.filter(pk=earliest.pk).update(created_at=many_tasks[0].created_at - timedelta(days=1))
    Task.objects.filter(pk__in=[many_tasks[0].pk, many_tasks[1].pk]).delete()
    second = tasks_page(client, first=10, after=first["pageInfo"]["endCursor"], orderBy=order)
    assert [edge["node"]["id"] for edge in second["edges"]] == expected_ids(many_tasks, "CREATED_AT", "ASC")[10:20]


def test_an_empty_list(client_for, bob):
    page = tasks_page(client_for(bob), filter={"search": "nothing matches this"})
    assert page == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None},
        "edges": [],
    }


def test_first_zero_tells_whether_there_is_anything(client_for, owner, many_tasks):
    page = tasks_page(client_for(owner), first=0)
    assert page["edges"] == []
    assert page["pageInfo"]["hasNextPage"] is True
    assert page["totalCount"] == 250


@pytest.mark.parametrize(
    "variables, field_errors",
    [
        ({"first": 101}, {"first": ["Must be between 0 and 100."]}),
        ({"last": 101}, {"last": ["Must be between 0 and 100."]}),
        ({"first": -1}, {"first": ["Must be between 0 and 100."]}),
        ({"last": -5}, {"last": ["Must be between 0 and 100."]}),
        ({"first": 5, "last": 5}, {"last": ["Give first or last, not both."]}),
        ({"after": "garbage"}, {"after": ["Not a valid cursor for this list."]}),
        ({"before": "garbage!"}, {"before": ["Not a valid cursor for this list."]}),
        ({"after": "ÿÿ"}, {"after": ["Not a valid cursor for this list."]}),
        ({"after": base64.urlsafe_b64encode(b"[1, 2]").decode()}, {"after": ["Not a valid cursor for this list."]}),
        (
            {"after": base64.urlsafe_b64encode(json.dumps({"created_at": "yesterday", "id": "1"}).encode()).decode()},
            {"after": ["Not a valid cursor for this list."]},
        ),
        (
            {"after": base64.urlsafe_b64encode(json.dumps({"created_at": None, "id": "1"}).encode()).decode()},
            {"after": ["Not a valid cursor for this list."]},
        ),
        (
            {
                "after": base64.urlsafe_b64encode(json.dumps({"title": "a\u0000", "id": "1"}).encode()).decode(),
                "orderBy": {"field": "TITLE", "direction": "ASC"},
            },
            {"after": ["Not a valid cursor for this list."]},
        ),
        (
            {
                "before": base64.urlsafe_b64encode(json.dumps({"title": "a\ud800", "id": "1"}).encode()).decode(),
                "orderBy": {"field": "TITLE", "direction": "ASC"},
            },
            {"before": ["Not a valid cursor for this list."]},
        ),
    ],
)
def test_bad_page_arguments_are_bad_input(client_for, owner, variables, field_errors):
    result = client_for(owner).execute(PAGE, variables)
    error = only_error(result)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fieldErrors": field_errors}
    assert result["data"] is None


def test_at_most_100_per_page(client_for, owner, many_tasks):
    assert len(tasks_page(client_for(owner), first=100)["edges"]) == 100
    assert len(tasks_page(client_for(owner), last=100)["edges"]) == 100


def test_a_cursor_is_its_rows_position_in_any_ordering(client_for, owner, many_tasks):
    """A cursor holds only its row (docs/permissions.md), so it means "after that row" in any order."""
    client = client_for(owner)
    first = tasks_page(client, first=1, orderBy={"field": "TITLE", "direction": "ASC"})
    cursor, row = first["pageInfo"]["endCursor"], first["edges"][0]["node"]["id"]
    expected = expected_ids(many_tasks, "CREATED_AT", "ASC")
    after = tasks_page(client, first=3, after=cursor, orderBy={"field": "CREATED_AT", "direction": "ASC"})
    assert [edge["node"]["id"] for edge in after["edges"]] == expected[expected.index(row) + 1 :][:3]


class TestFilters:
    @pytest.fixture
    def tasks(self, owner, bob):
        Task.objects.bulk_create(
            [
                Task(owner=owner, title="Buy MILK", description="", completed=False),
                Task(owner=owner, title="Call mum", description="about the milk", completed=True),
                Task(owner=owner, title="Pay rent", description="", completed=True),
                Task(owner=bob, title="Milk the cow", description="", completed=False),
            ]
        )

    @pytest.mark.parametrize(
        "task_filter, titles",
        [
            ({}, {"Buy MILK", "Call mum", "Pay rent"}),
            ({"completed": True}, {"Call mum", "Pay rent"}),
            ({"completed": False}, {"Buy MILK"}),
            ({"search": "milk"}, {"Buy MILK", "Call mum"}),
            ({"search": "MiLk", "completed": True}, {"Call mum"}),
            ({"search": "cow"}, set()),
            ({"search": "%"}, set()),
            ({"search": ""}, {"Buy MILK", "Call mum", "Pay rent"}),
            ({"search": "milk\x00"}, set()),
        ],
    )
    def test_filters_narrow_what_the_viewer_may_see(self, client_for, owner, tasks, task_filter, titles):
        page = tasks_page(client_for(owner), filter=task_filter)
        assert {edge["node"]["title"] for edge in page["edges"]} == titles
        assert page["totalCount"] == len(titles)


USERS = """
query($first: Int, $after: String, $last: Int, $before: String, $search: String) {
  users(first: $first, after: $after, last: $last, before: $before, search: $search) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor startCursor } edges { node { username } }
  }
}
"""


def test_users_pages_by_username(client_for, make_user):
    staff = make_user("staff", is_staff=True)
    for index in range(44):
        make_user(f"user{index:02d}")
    client = client_for(staff)
    names, after = [], None
    while True:
        page = client.execute(USERS, {"first": 10, "after": after})["data"]["users"]
        names += [edge["node"]["username"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == sorted(["staff", *(f"user{index:02d}" for index in range(44))])
    assert page["totalCount"] == 45
    last = client.execute(USERS, {"last": 3})["data"]["users"]
    assert [edge["node"]["username"] for edge in last["edges"]] == ["user41", "user42", "user43"]


def test_users_search_matches_username_or_email(client_for, make_user):
    staff = make_user("staff", is_staff=True)
    make_user("carol", email="c@Example.org")
    make_user("EXAMPLEfan", email="fan@x.io")
    page = client_for(staff).execute(USERS, {"search": "example.ORG"})["data"]["users"]
    assert [edge["node"]["username"] for edge in page["edges"]] == ["carol"]
    page = client_for(staff).execute(USERS, {"search": "examplef"})["data"]["users"]
    assert [edge["node"]["username"] for edge in page["edges"]] == ["EXAMPLEfan"]


def test_users_search_with_text_no_database_stores_matches_nobody(client_for, make_user):
    page = client_for(make_user("staff", is_staff=True)).execute(USERS, {"search": "st\x00"})["data"]["users"]
    assert page["edges"] == []


def test_users_page_size_is_limited_too(client_for, make_user):
    error = only_error(client_for(make_user("staff", is_staff=True)).execute(USERS, {"first": 1000}))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fieldErrors": {"first": ["Must be between 0 and 100."]}}


def encoded(values):
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "order, values",
    [
        ("TITLE", {"title": "a", "id": "9" * 40}),
        ("CREATED_AT", {"created_at": "2026-01-01T00:00:00+00:00", "id": "-" + "9" * 30}),
        ("CREATED_AT", {"created_at": "9999-12-31T23:59:59+00:00", "id": "1"}),
        ("CREATED_AT", {"created_at": "0001-01-01T00:00:00+05:00", "id": "1"}),
        ("UPDATED_AT", {"updated_at": "2026-01-01", "id": "1e400"}),
    ],
)
@pytest.mark.parametrize("argument", ["after", "before"])
def test_extreme_cursors_are_answered_without_a_server_error(client_for, owner, order, values, argument):
    Task.objects.create(owner=owner, title="x")
    result = client_for(owner).execute(
        PAGE, {argument: encoded(values), "orderBy": {"field": order, "direction": "ASC"}}
    )
    codes = [error["extensions"]["code"] for error in result.get("errors", [])]
    assert codes in ([], ["BAD_USER_INPUT"])
