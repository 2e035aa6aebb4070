"""Arguments never reveal what the viewer may not read: search, filter, orderBy and cursors."""

import base64
import binascii

import pytest
from django.test import override_settings

from accounts.codenames import CHANGE_USER, VIEW_USER
from schema.relay import to_global_id
from tasks.codenames import VIEW_TASK
from tasks.models import Task
from tests.graphql_util import only_error

TASKS = """
query($filter: TaskFilter, $orderBy: TaskOrder, $after: String, $before: String, $first: Int, $last: Int) {
  tasks(filter: $filter, orderBy: $orderBy, after: $after, before: $before, first: $first, last: $last) {
    totalCount edges { cursor node { id title } }
  }
}
"""
USERS = "query($search: String) { users(search: $search) { totalCount edges { node { username } } } }"


@pytest.fixture
def diary(alice):
    return Task.objects.create(owner=alice, title="Diary", description="the password is swordfish", completed=True)


@pytest.fixture
def owner(alice, client_for):
    return client_for(alice)


@pytest.fixture
def reader(make_user, grant_role, client_for):
    return client_for(grant_role(make_user("reader"), VIEW_TASK))


def titles(result):
    assert "errors" not in result, result
    return [edge["node"]["title"] for edge in result["data"]["tasks"]["edges"]]


class TestSearch:
    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
    def test_tasks_search_skips_a_description_the_viewer_may_not_read(self, owner, reader, diary):
        hidden = owner.execute(TASKS, {"filter": {"search": "swordfish"}})
        assert hidden["data"]["tasks"]["totalCount"] == 0
        assert titles(owner.execute(TASKS, {"filter": {"search": "diar"}})) == ["Diary"]
        assert reader.execute(TASKS, {"filter": {"search": "swordfish"}})["data"]["tasks"]["totalCount"] == 1

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.title": [VIEW_TASK]})
    def test_tasks_search_skips_a_title_the_viewer_may_not_read(self, owner, diary):
        count = "query($search: String) { tasks(filter: {search: $search}) { totalCount } }"
        assert owner.execute(count, {"search": "diar"})["data"] == {"tasks": {"totalCount": 0}}
        assert owner.execute(count, {"search": "swordfish"})["data"] == {"tasks": {"totalCount": 1}}

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.completed": [VIEW_TASK]})
    def test_filtering_on_a_field_the_viewer_may_not_read_is_forbidden(self, owner, reader, diary):
        result = owner.execute(TASKS, {"filter": {"completed": True}})
        assert only_error(result)["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert result["data"] is None
        assert titles(reader.execute(TASKS, {"filter": {"completed": True}})) == ["Diary"]

    @override_settings(GRAPHQL_FIELD_CODENAMES={"User.email": [CHANGE_USER]})
    def test_users_search_matches_the_email_only_for_viewers_who_may_read_it(self, make_user, grant_role, client_for):
        make_user("bob", email="bob@hidden-employer.example")
        directory = client_for(grant_role(make_user("directory"), VIEW_USER, role="directory"))
        staff = client_for(make_user("staff", is_staff=True))
        manager = client_for(grant_role(make_user("manager"), VIEW_USER, CHANGE_USER, role="managers"))
        for client in (directory, staff):
            assert client.execute(USERS, {"search": "hidden-emp"})["data"]["users"]["totalCount"] == 0
            assert client.execute(USERS, {"search": "bo"})["data"]["users"]["totalCount"] == 1
        assert manager.execute(USERS, {"search": "hidden-emp"})["data"]["users"]["totalCount"] == 1

    @override_settings(GRAPHQL_FIELD_CODENAMES={"User.username": [CHANGE_USER]})
    def test_users_neither_match_nor_sort_by_a_username_the_viewer_may_not_read(
        self, make_user, grant_role, client_for
    ):
        zed = make_user("zed", email="z1@example.com")
        amy = make_user("amy")
        directory = client_for(grant_role(make_user("directory"), VIEW_USER, role="directory"))
        ids = "query($search: String) { users(search: $search) { totalCount edges { node { id } } } }"
        assert directory.execute(ids, {"search": "zed"})["data"]["users"]["totalCount"] == 0
        listed = [edge["node"]["id"] for edge in directory.execute(ids)["data"]["users"]["edges"]]
        assert listed.index(to_global_id("User", zed.pk)) < listed.index(to_global_id("User", amy.pk))


class TestOrder:
    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.title": [VIEW_TASK]})
    @pytest.mark.parametrize("direction", ["ASC", "DESC"])
    def test_ordering_by_a_field_the_viewer_may_not_read_is_forbidden(self, owner, reader, diary, direction):
        order = {"field": "TITLE", "direction": direction}
        result = owner.execute("query($o: TaskOrder) { tasks(orderBy: $o) { totalCount } }", {"o": order})
        error = only_error(result)
        assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert error["path"] == ["tasks"]
        assert titles(reader.execute(TASKS, {"orderBy": order})) == ["Diary"]

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.createdAt": [VIEW_TASK]})
    def test_the_default_order_needs_no_field_the_viewer_may_not_read(self, owner, alice):
        first = Task.objects.create(owner=alice, title="First")
        second = Task.objects.create(owner=alice, title="Second")
        result = owner.execute("{ tasks { edges { node { id } } } }")
        assert "errors" not in result, result
        ids = [edge["node"]["id"] for edge in result["data"]["tasks"]["edges"]]
        assert ids == [to_global_id("Task", second.pk), to_global_id("Task", first.pk)]
        explicit = owner.execute("{ tasks(orderBy: {field: CREATED_AT, direction: ASC}) { totalCount } }")
        assert only_error(explicit)["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}


def decoded(cursor):
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"==")
    except (binascii.Error, ValueError):
        return cursor.encode()


class TestCursors:
    def test_a_cursor_holds_the_row_and_none_of_its_values(self, reader, diary):
        cursors = set()
        for field in ("TITLE", "CREATED_AT", "UPDATED_AT"):
            result = reader.execute(TASKS, {"orderBy": {"field": field, "direction": "ASC"}})
            cursors.add(result["data"]["tasks"]["edges"][0]["cursor"])
        assert len(cursors) == 1  # the same row is at the same cursor whatever the order
        content = decoded(cursors.pop())
        assert b"Diary" not in content
        assert str(diary.created_at.year).encode() not in content

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.title": [VIEW_TASK]})
    def test_with_the_title_restricted_no_cursor_the_viewer_gets_holds_it(self, owner, reader, diary):
        by_title = "{ tasks(orderBy: {field: TITLE, direction: ASC}) { edges { cursor } } }"
        assert only_error(owner.execute(by_title))["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        default = owner.execute("{ tasks { edges { cursor } } }")["data"]["tasks"]["edges"][0]["cursor"]
        readers = reader.execute(by_title)["data"]["tasks"]["edges"][0]["cursor"]
        assert default == readers  # the row, whatever the order and whoever asks
        assert b"Diary" not in decoded(default)

    def test_a_forged_cursor_of_a_hidden_row_reveals_nothing(self, owner, alice, bob):
        """A cursor naming someone else's task is not a position in the viewer's list."""
        for title in ("apple", "melon", "zebra"):
            Task.objects.create(owner=alice, title=title)
        hidden = Task.objects.create(owner=bob, title="m-secret")
        forged = base64.urlsafe_b64encode(str(hidden.pk).encode()).decode()
        for argument in ("after", "before"):
            result = owner.execute(TASKS, {argument: forged, "orderBy": {"field": "TITLE", "direction": "ASC"}})
            error = only_error(result)
            assert error["extensions"]["code"] == "BAD_USER_INPUT"
            assert list(error["extensions"]["fieldErrors"]) == [argument]

    def test_a_cursor_whose_row_was_deleted_asks_to_start_again(self, owner, alice):
        tasks = [Task.objects.create(owner=alice, title=f"Task {index}") for index in range(3)]
        page = owner.execute(TASKS, {"first": 1})
        cursor = page["data"]["tasks"]["edges"][0]["cursor"]
        Task.objects.filter(pk=tasks[-1].pk).delete()
        for argument in ("after", "before"):
            error = only_error(owner.execute(TASKS, {argument: cursor}))
            assert error["extensions"] == {
                "code": "BAD_USER_INPUT",
                "fieldErrors": {
                    argument: ["This cursor's item is no longer in the list; start again without a cursor."]
                },
            }
