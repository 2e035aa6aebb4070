"""Task queries and mutations as every kind of viewer, through the HTTP endpoint."""

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings

from schema.relay import to_global_id
from tasks.codenames import CHANGE_TASK, DELETE_TASK, VIEW_TASK
from tasks.models import Task
from tests.graphql_util import GraphQLClient, error_codes, only_error

TASK_FIELDS = "id title description completed createdAt updatedAt owner { username }"

TASK = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
NODE = "query($id: ID!) { node(id: $id) { id ... on Task { title owner { username } } } }"
TASKS = "{ tasks { totalCount edges { node { title owner { username } } } } }"
CREATE = f"mutation($input: CreateTaskInput!) {{ createTask(input: $input) {{ {TASK_FIELDS} }} }}"
UPDATE = f"mutation($id: ID!, $input: UpdateTaskInput!) {{ updateTask(id: $id, input: $input) {{ {TASK_FIELDS} }} }}"
DELETE = "mutation($id: ID!) { deleteTask(id: $id) { deletedId } }"


@pytest.fixture
def actors(alice, bob, make_user, grant_role, client_for):
    """A client per kind of viewer; alice owns the task under test."""
    viewer = grant_role(make_user("viewer"), VIEW_TASK, role="auditor")
    editor = grant_role(make_user("editor"), CHANGE_TASK, role="editor")
    deleter = grant_role(make_user("deleter"), DELETE_TASK, role="deleter")
    direct_viewer = make_user("direct")
    direct_viewer.user_permissions.add(Permission.objects.get(content_type__app_label="tasks", codename="view_task"))
    return {
        "direct_viewer": client_for(direct_viewer),
        "anonymous": GraphQLClient(),
        "owner": client_for(alice),
        "other": client_for(bob),
        "staff": client_for(make_user("staff", is_staff=True)),
        "viewer": client_for(viewer),
        "editor": client_for(editor),
        "deleter": client_for(deleter),
        "superuser": client_for(make_user("root", is_superuser=True)),
    }


@pytest.fixture
def task(alice):
    return Task.objects.create(owner=alice, title="Buy milk", description="Two litres")


def task_id(task):
    return to_global_id("Task", task.pk)


def unchanged(task):
    stored = Task.objects.get(pk=task.pk)
    return (stored.title, stored.description, stored.completed) == (task.title, task.description, task.completed)


READERS = {"owner", "staff", "viewer", "editor", "superuser"}


@pytest.mark.parametrize(
    "actor, outcome",
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("owner", None),
        ("other", "NOT_FOUND"),
        ("staff", None),
        ("viewer", None),
        ("editor", None),  # changing implies reading, as in Django's admin
        ("deleter", "NOT_FOUND"),
        ("superuser", None),
    ],
)
@pytest.mark.parametrize("document, field", [(TASK, "task"), (NODE, "node")])
def test_reading_one_task(actors, task, actor, outcome, document, field):
    result = actors[actor].execute(document, {"id": task_id(task)})
    if outcome:
        assert error_codes(result) == [outcome]
        assert result["data"] is None or result["data"][field] is None
    else:
        assert "errors" not in result, result
        assert result["data"][field]["title"] == "Buy milk"
        assert result["data"][field]["owner"] == {"username": "alice"}


def test_task_has_every_field(actors, task):
    result = actors["owner"].execute(TASK, {"id": task_id(task)})
    assert result["data"]["task"] == {
        "id": task_id(task),
        "title": "Buy milk",
        "description": "Two litres",
        "completed": False,
        "createdAt": task.created_at.isoformat(),
        "updatedAt": task.updated_at.isoformat(),
        "owner": {"username": "alice"},
    }


@pytest.mark.parametrize(
    "actor, sees",
    [
        ("owner", {"Buy milk"}),
        ("other", {"Walk dog"}),
        ("staff", {"Buy milk", "Walk dog"}),
        ("viewer", {"Buy milk", "Walk dog"}),
        ("direct_viewer", {"Buy milk", "Walk dog"}),  # tasks.view_task held directly, not through a role
        ("editor", {"Buy milk", "Walk dog"}),
        ("deleter", set()),
        ("superuser", {"Buy milk", "Walk dog"}),
    ],
)
def test_tasks_lists_what_the_viewer_may_see(actors, task, bob, actor, sees):
    Task.objects.create(owner=bob, title="Walk dog")
    result = actors[actor].execute(TASKS)
    assert "errors" not in result, result
    titles = {edge["node"]["title"] for edge in result["data"]["tasks"]["edges"]}
    assert titles == sees
    assert result["data"]["tasks"]["totalCount"] == len(sees)


def test_tasks_needs_a_viewer(actors, task):
    result = actors["anonymous"].execute(TASKS)
    assert only_error(result)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}
    assert result["data"] is None


def test_a_bad_token_is_not_anonymous(task):
    result = GraphQLClient().authenticate("not-a-token").execute(TASKS)
    assert only_error(result)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "token_invalid"}


@pytest.mark.parametrize("actor", ["owner", "other", "staff", "viewer", "editor", "deleter", "superuser"])
def test_create_task_belongs_to_the_viewer(actors, actor):
    result = actors[actor].execute(CREATE, {"input": {"title": "New"}})
    assert "errors" not in result, result
    created = result["data"]["createTask"]
    stored = Task.objects.get()
    assert created["id"] == task_id(stored)
    assert (created["title"], created["description"], created["completed"]) == ("New", "", False)
    assert created["owner"]["username"] == stored.owner.username
    expected_owner = {"owner": "alice", "other": "bob", "superuser": "root"}.get(actor, actor)
    assert stored.owner.username == expected_owner


def test_create_task_needs_a_viewer(actors):
    result = actors["anonymous"].execute(CREATE, {"input": {"title": "New"}})
    assert error_codes(result) == ["UNAUTHENTICATED"]
    assert not Task.objects.exists()


def test_create_task_keeps_what_it_is_given(actors):
    result = actors["owner"].execute(CREATE, {"input": {"title": "Read", "description": "A book", "completed": True}})
    created = result["data"]["createTask"]
    assert (created["title"], created["description"], created["completed"]) == ("Read", "A book", True)


@pytest.mark.parametrize(
    "task_input, field_errors",
    [
        ({"title": ""}, {"title": ["Must not be blank."]}),
        ({"title": "   "}, {"title": ["Must not be blank."]}),
        ({"title": "x" * 201}, {"title": ["Must be at most 200 characters."]}),
        ({"title": "ok", "description": "x" * 10_001}, {"description": ["Must be at most 10000 characters."]}),
        ({"title": "nul\x00"}, {"title": ["Must not contain NUL characters or lone surrogates."]}),
        (
            {"title": "ok", "description": "a\x00b"},
            {"description": ["Must not contain NUL characters or lone surrogates."]},
        ),
        ({"title": "ok", "description": None}, {"description": ["Must be text."]}),
        ({"title": "ok", "completed": None}, {"completed": ["Must be true or false."]}),
    ],
)
def test_create_task_validates_its_input(actors, task_input, field_errors):
    result = actors["owner"].execute(CREATE, {"input": task_input})
    error = only_error(result)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "fieldErrors": field_errors}
    assert not Task.objects.exists()


def test_create_task_accepts_the_longest_title_and_description(actors):
    result = actors["owner"].execute(CREATE, {"input": {"title": "x" * 200, "description": "y" * 10_000}})
    assert "errors" not in result
    assert Task.objects.get().title == "x" * 200


@pytest.mark.parametrize(
    "actor, outcome, required",
    [
        ("anonymous", "UNAUTHENTICATED", None),
        ("owner", None, None),
        ("other", "NOT_FOUND", None),
        ("staff", "FORBIDDEN", [CHANGE_TASK]),
        ("viewer", "FORBIDDEN", [CHANGE_TASK]),
        ("editor", None, None),
        ("deleter", "NOT_FOUND", None),
        ("superuser", None, None),
    ],
)
def test_update_task(actors, task, actor, outcome, required):
    result = actors[actor].execute(UPDATE, {"id": task_id(task), "input": {"title": "Buy oat milk", "completed": True}})
    if outcome:
        error = only_error(result)
        assert error["extensions"]["code"] == outcome
        assert error["extensions"].get("required") == required
        assert error["path"] == ["updateTask"]
        assert unchanged(task)
    else:
        assert "errors" not in result, result
        updated = result["data"]["updateTask"]
        assert (updated["title"], updated["description"], updated["completed"]) == ("Buy oat milk", "Two litres", True)
        stored = Task.objects.get(pk=task.pk)
        assert (stored.title, stored.completed, stored.owner.username) == ("Buy oat milk", True, "alice")
        assert stored.updated_at > task.updated_at


def test_a_holder_of_change_task_reads_what_it_may_change(actors, task):
    """tasks, task, node, User.tasks and updateTask's payload agree (docs/permissions.md)."""
    editor = actors["editor"]
    variables = {"id": task_id(task)}
    payload = editor.execute(UPDATE, {**variables, "input": {}})["data"]["updateTask"]
    assert editor.execute(TASK, variables)["data"]["task"] == payload
    assert editor.execute(NODE, variables)["data"]["node"]["title"] == payload["title"]
    owners_tasks = editor.execute(
        "query($id: ID!) { task(id: $id) { owner { tasks { edges { node { title } } } } } }", variables
    )
    assert "errors" not in owners_tasks, owners_tasks
    assert owners_tasks["data"]["task"]["owner"]["tasks"]["edges"] == [{"node": {"title": "Buy milk"}}]


def test_update_task_changes_only_the_given_fields(actors, task):
    result = actors["owner"].execute(UPDATE, {"id": task_id(task), "input": {"description": ""}})
    assert result["data"]["updateTask"]["title"] == "Buy milk"
    assert result["data"]["updateTask"]["description"] == ""


def test_update_task_with_nothing_to_change_leaves_it_alone(actors, task):
    result = actors["owner"].execute(UPDATE, {"id": task_id(task), "input": {}})
    assert result["data"]["updateTask"]["updatedAt"] == task.updated_at.isoformat()


@pytest.mark.parametrize(
    "task_input, field",
    [({"title": ""}, "title"), ({"title": None}, "title"), ({"completed": None}, "completed")],
)
def test_update_task_validates_and_changes_nothing_on_failure(actors, task, task_input, field):
    result = actors["owner"].execute(UPDATE, {"id": task_id(task), "input": {**task_input, "description": "new"}})
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert list(error["extensions"]["fieldErrors"]) == [field]
    assert unchanged(task)


@pytest.mark.parametrize(
    "actor, outcome, required",
    [
        ("anonymous", "UNAUTHENTICATED", None),
        ("owner", None, None),
        ("other", "NOT_FOUND", None),
        ("staff", "FORBIDDEN", [DELETE_TASK]),
        ("viewer", "FORBIDDEN", [DELETE_TASK]),
        ("editor", "FORBIDDEN", [DELETE_TASK]),  # may see it, through changing
        ("deleter", None, None),
        ("superuser", None, None),
    ],
)
def test_delete_task(actors, task, actor, outcome, required):
    result = actors[actor].execute(DELETE, {"id": task_id(task)})
    if outcome:
        error = only_error(result)
        assert error["extensions"]["code"] == outcome
        assert error["extensions"].get("required") == required
        assert unchanged(task)
    else:
        assert result == {"data": {"deleteTask": {"deletedId": task_id(task)}}}
        assert not Task.objects.filter(pk=task.pk).exists()


def test_a_deleted_task_is_not_found(actors, task):
    actors["owner"].execute(DELETE, {"id": task_id(task)})
    for document in (TASK, DELETE):
        assert error_codes(actors["owner"].execute(document, {"id": task_id(task)})) == ["NOT_FOUND"]
    result = actors["owner"].execute(UPDATE, {"id": task_id(task), "input": {"title": "x"}})
    assert error_codes(result) == ["NOT_FOUND"]


def test_another_users_ids_leave_their_data_unchanged(actors, task):
    """IDOR: guessing or copying someone else's id reveals and changes nothing."""
    other = actors["other"]
    for document, variables in [
        (TASK, {"id": task_id(task)}),
        (NODE, {"id": task_id(task)}),
        (UPDATE, {"id": task_id(task), "input": {"title": "pwned", "completed": True}}),
        (DELETE, {"id": task_id(task)}),
    ]:
        result = other.execute(document, variables)
        assert error_codes(result) == ["NOT_FOUND"]
        assert "Buy milk" not in str(result)
    assert unchanged(task)


@pytest.mark.parametrize("document", [TASK, DELETE])
@pytest.mark.parametrize(
    "bad_id",
    ["garbage", "", "VGFzazp4", to_global_id("Task", "-1"), to_global_id("Task", "²"), to_global_id("Task", "١")],
)
def test_malformed_ids_are_bad_input(actors, document, bad_id):
    error = only_error(actors["owner"].execute(document, {"id": bad_id}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["fieldErrors"] == {"id": ["Not a valid id."]}


def test_an_id_of_another_type_is_not_found(actors, alice):
    result = actors["owner"].execute(TASK, {"id": to_global_id("User", alice.pk)})
    assert error_codes(result) == ["NOT_FOUND"]


@pytest.mark.parametrize("document", [TASK, NODE, DELETE])
@pytest.mark.parametrize("digits", ["9" * 25, "1" + "0" * 5000])
def test_an_id_beyond_any_primary_key_is_not_found(actors, document, digits):
    """Python's int() refuses more than 4,300 digits; such an id still names no task."""
    result = actors["owner"].execute(document, {"id": to_global_id("Task", digits)})
    assert error_codes(result) == ["NOT_FOUND"]


def test_node_resolves_a_user_id_to_a_user(actors, alice):
    result = actors["owner"].execute(
        "query($id: ID!) { node(id: $id) { id ... on User { username } } }", {"id": to_global_id("User", alice.pk)}
    )
    assert result["data"]["node"] == {"id": to_global_id("User", alice.pk), "username": "alice"}


class TestConfiguredCodenames:
    """An operator adds requirements through settings.GRAPHQL_FIELD_CODENAMES, read on every request."""

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Mutation.createTask": ["tasks.add_task"]})
    def test_create_task_can_require_a_codename(self, actors, alice, grant_role):
        error = only_error(actors["owner"].execute(CREATE, {"input": {"title": "New"}}))
        assert error["extensions"] == {"code": "FORBIDDEN", "required": ["tasks.add_task"]}
        assert not Task.objects.exists()

        grant_role(alice, "tasks.add_task", role="creator")
        result = actors["owner"].execute(CREATE, {"input": {"title": "New"}})
        assert "errors" not in result, result
        assert Task.objects.get().owner == alice

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Mutation.createTask": ["tasks.add_task"]})
    def test_superusers_hold_every_codename(self, actors):
        assert "errors" not in actors["superuser"].execute(CREATE, {"input": {"title": "New"}})

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
    def test_a_field_without_its_own_rule_can_require_a_codename(self, actors, task):
        error = only_error(actors["owner"].execute(TASK, {"id": task_id(task)}))
        assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        without_description = actors["owner"].execute(
            "query($id: ID!) { task(id: $id) { title } }", {"id": task_id(task)}
        )
        assert without_description == {"data": {"task": {"title": "Buy milk"}}}
        assert "errors" not in actors["viewer"].execute(TASK, {"id": task_id(task)})

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
    def test_it_is_checked_through_fragments_and_before_any_mutation_runs(self, actors):
        document = """
        mutation($input: CreateTaskInput!) { createTask(input: $input) { ...parts } }
        fragment parts on Task { title description }
        """
        error = only_error(actors["owner"].execute(document, {"input": {"title": "New"}}))
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert not Task.objects.exists()

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.id": [VIEW_TASK]})
    @pytest.mark.parametrize(
        "document",
        [
            "query($id: ID!) { node(id: $id) { id } }",
            "query($id: ID!) { node(id: $id) { ... on Node { id } } }",
            "{ tasks { edges { node { ... on Node { id } } } } }",
        ],
    )
    def test_it_is_checked_when_the_field_is_read_through_an_interface(self, actors, task, document):
        error = only_error(actors["owner"].execute(document, {"id": task_id(task)}))
        assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert "errors" not in actors["viewer"].execute(document, {"id": task_id(task)})

    def test_without_configuration_the_defaults_apply(self, actors):
        assert "errors" not in actors["owner"].execute(CREATE, {"input": {"title": "New"}})
