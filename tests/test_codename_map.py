"""GRAPHQL_FIELD_CODENAMES: keys are checked at start, type-level keys close every path to the
type, and inside a TokenPayload every requirement is checked for the payload's user."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from accounts.codenames import VIEW_USER
from accounts.models import LoginSession, RefreshToken
from schema.relay import to_global_id
from tasks.codenames import VIEW_TASK
from tasks.models import Task
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, only_error
from tests.test_settings import PRODUCTION_ENV, run_manage


@pytest.mark.parametrize(
    "key",
    [
        "User.last_login",  # the Python name, not the GraphQL one
        "user.email",  # types are spelled as in the schema
        "Task.nope",
        "Tsk",
        "Query",  # a root type has no object to reach: name its fields
        "Node.id",  # an interface's field: name it on each object type
        "TaskFilter.search",  # an input type
        "Task.title.extra",
    ],
)
def test_a_key_that_names_no_type_or_field_stops_the_server_at_start(key):
    result = run_manage("check", env={**PRODUCTION_ENV, "GRAPHQL_FIELD_CODENAMES": f'{{"{key}": ["{VIEW_TASK}"]}}'})
    assert result.returncode != 0
    assert "GRAPHQL_FIELD_CODENAMES" in result.stderr
    assert repr(key) in result.stderr


@pytest.mark.parametrize("application", ["project.wsgi", "project.asgi"])
def test_gunicorn_uvicorn_and_runserver_load_the_same_check(application):
    """The WSGI application (what gunicorn and runserver serve) and the ASGI one (uvicorn) are refused as `check` is."""
    bad = {**PRODUCTION_ENV, "GRAPHQL_FIELD_CODENAMES": '{"User.last_login": ["accounts.view_user"]}'}
    result = run_manage("shell", "--no-imports", "-c", f"import {application}", env=bad)
    assert result.returncode != 0
    assert "'User.last_login'" in result.stderr


def test_keys_that_name_a_field_or_an_object_type_are_accepted():
    good = '{"User.lastLogin": ["accounts.view_user"], "Task": ["tasks.view_task"], "Mutation.createTask": []}'
    result = run_manage("check", env={**PRODUCTION_ENV, "GRAPHQL_FIELD_CODENAMES": good})
    assert result.returncode == 0, result.stderr


def test_a_test_overriding_the_map_with_an_unknown_key_fails_at_once():
    with pytest.raises(ImproperlyConfigured, match="'Task.titel'"):
        with override_settings(GRAPHQL_FIELD_CODENAMES={"Task.titel": [VIEW_TASK]}):
            pass


TASK = "query($id: ID!) { task(id: $id) { title } }"
TASKS = "{ tasks { totalCount } }"
NODE = "query($id: ID!) { node(id: $id) { id } }"
OWN_TASKS = "{ me { username tasks { totalCount } } }"
THROUGH_THE_OWNER = "query($id: ID!) { task(id: $id) { owner { tasks { edges { node { title } } } } } }"
CREATE = 'mutation { createTask(input: {title: "New"}) { id } }'
UPDATE = 'mutation($id: ID!) { updateTask(id: $id, input: {title: "Changed"}) { id } }'


class TestTypeLevelKeys:
    @pytest.fixture
    def task(self, alice):
        return Task.objects.create(owner=alice, title="Buy milk")

    @pytest.fixture
    def owner(self, alice, client_for):
        return client_for(alice)

    @pytest.fixture
    def reader(self, make_user, grant_role, client_for):
        return client_for(grant_role(make_user("reader"), VIEW_TASK))

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK]})
    @pytest.mark.parametrize(
        "document, path",
        [
            (TASK, ["task"]),
            (TASKS, ["tasks"]),
            (NODE, ["node"]),
            (OWN_TASKS, ["me", "tasks"]),
            (THROUGH_THE_OWNER, ["task"]),
            (UPDATE, ["updateTask"]),
        ],
    )
    def test_every_path_to_the_type_is_closed(self, owner, reader, task, document, path):
        result = owner.execute(document, {"id": to_global_id("Task", task.pk)})
        error = only_error(result)
        assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert error["path"] == path
        assert "Buy milk" not in str(result)
        assert Task.objects.get().title == "Buy milk"

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK]})
    def test_a_mutation_returning_the_type_does_not_run(self, owner):
        error = only_error(owner.execute(CREATE))
        assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert not Task.objects.exists()

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK]})
    def test_a_holder_reads_every_path(self, reader, task):
        for document in (TASK, TASKS, NODE, THROUGH_THE_OWNER, CREATE):
            result = reader.execute(document, {"id": to_global_id("Task", task.pk)})
            assert "errors" not in result, (document, result)

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK]})
    def test_a_hidden_and_a_missing_task_are_refused_alike_through_node(self, owner, bob):
        hidden = Task.objects.create(owner=bob, title="Walk dog")
        refusals = [
            only_error(owner.execute(NODE, {"id": to_global_id("Task", pk)}))["extensions"]
            for pk in (hidden.pk, hidden.pk + 1000)
        ]
        assert refusals == [{"code": "FORBIDDEN", "required": [VIEW_TASK]}] * 2

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK]})
    def test_other_types_stay_open(self, owner, alice):
        result = owner.execute(
            "query($id: ID!) { node(id: $id) { id } me { username } }", {"id": to_global_id("User", alice.pk)}
        )
        assert "errors" not in result, result

    @override_settings(GRAPHQL_FIELD_CODENAMES={"User": [VIEW_USER]})
    def test_a_type_reached_through_a_field_without_its_own_rule(self, owner, reader, task):
        """Task.owner has no rule of its own: the operation is refused before anything runs."""
        document = "query($id: ID!) { task(id: $id) { title owner { username } } }"
        error = only_error(owner.execute(document, {"id": to_global_id("Task", task.pk)}))
        assert error["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_USER]}
        assert only_error(owner.execute("{ me { username } }"))["extensions"]["required"] == [VIEW_USER]
        assert "errors" not in owner.execute(
            "query($id: ID!) { task(id: $id) { title } }", {"id": to_global_id("Task", task.pk)}
        )


class TestTokenPayloadViewer:
    """Inside a TokenPayload the payload's user is the viewer, for configured codenames too."""

    PAYLOAD_TASKS = """
    mutation($username: String!, $password: String!) {
      tokenAuth(username: $username, password: $password) {
        access user { username tasks { edges { node { title description } } } }
      }
    }
    """

    @pytest.fixture(autouse=True)
    def tasks(self, alice):
        Task.objects.create(owner=alice, title="Diary", description="alice's secret")

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
    def test_a_privileged_header_does_not_open_the_payload_users_restricted_fields(
        self, alice, make_user, grant_role, client_for
    ):
        privileged = client_for(grant_role(make_user("reader"), VIEW_TASK))
        result = privileged.execute(self.PAYLOAD_TASKS, {"username": "alice", "password": PASSWORD})
        assert only_error(result)["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert "alice's secret" not in str(result)
        assert not LoginSession.objects.filter(user=alice).exists()  # the refused login left nothing behind

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
    def test_a_refused_refresh_leaves_the_refresh_token_usable(self, alice):
        refresh = GraphQLClient().login("alice")["refresh"]
        document = """
        mutation($refresh: String!) {
          refreshToken(refresh: $refresh) { access user { tasks { edges { node { description } } } } }
        }
        """
        result = GraphQLClient().execute(document, {"refresh": refresh})
        assert only_error(result)["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_TASK]}
        assert not RefreshToken.objects.filter(consumed_at__isnull=False).exists()
        retry = GraphQLClient().execute(
            "mutation($r: String!) { refreshToken(refresh: $r) { access } }", {"r": refresh}
        )
        assert "errors" not in retry, retry

    @override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": [VIEW_TASK]})
    def test_the_payload_user_holding_the_codename_reads_them_without_a_header(self, alice, grant_role):
        grant_role(alice, VIEW_TASK)
        result = GraphQLClient().execute(self.PAYLOAD_TASKS, {"username": "alice", "password": PASSWORD})
        assert "errors" not in result, result
        assert result["data"]["tokenAuth"]["user"]["tasks"]["edges"][0]["node"]["description"] == "alice's secret"

    @override_settings(GRAPHQL_FIELD_CODENAMES={"User": [VIEW_USER]})
    def test_a_type_level_key_on_the_payload_is_checked_for_its_user(self, alice, make_user, grant_role, client_for):
        privileged = client_for(grant_role(make_user("directory"), VIEW_USER))
        result = privileged.execute(LOGIN, {"username": "alice", "password": PASSWORD})
        assert only_error(result)["extensions"] == {"code": "FORBIDDEN", "required": [VIEW_USER]}
