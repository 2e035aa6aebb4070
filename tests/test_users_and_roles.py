"""The users query, User's field-level rules, and setUserRoles, as every kind of viewer."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.codenames import CHANGE_USER, VIEW_USER
from schema.relay import to_global_id
from tasks.codenames import DELETE_TASK, VIEW_TASK
from tasks.models import Task
from tests.graphql_util import GraphQLClient, error_codes, only_error

USERS = "{ users { totalCount edges { node { username } } } }"
USER_NODE = "query($id: ID!) { node(id: $id) { ... on User { username email } } }"
OWNERS = "{ tasks { edges { node { title owner { username isStaff email lastLogin roles } } } } }"
SET_ROLES = "mutation($userId: ID!, $roles: [String!]!) { setUserRoles(userId: $userId, roles: $roles) { username } }"


@pytest.fixture
def actors(alice, bob, make_user, grant_role, client_for):
    return {
        "anonymous": GraphQLClient(),
        "self": client_for(alice),
        "other": client_for(bob),
        "staff": client_for(make_user("staff", is_staff=True)),
        "user_viewer": client_for(grant_role(make_user("directory"), VIEW_USER, role="directory")),
        "task_viewer": client_for(grant_role(make_user("auditor"), VIEW_TASK, role="auditor")),
        # As createsuperuser makes them: superusers hold every codename, and are staff.
        "superuser": client_for(make_user("root", is_superuser=True, is_staff=True)),
    }


@pytest.mark.parametrize(
    "actor, outcome",
    [
        ("anonymous", {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}),
        ("self", {"code": "FORBIDDEN", "required": [VIEW_USER]}),
        ("task_viewer", {"code": "FORBIDDEN", "required": [VIEW_USER]}),
        ("staff", None),
        ("user_viewer", None),
        ("superuser", None),
    ],
)
def test_users(actors, actor, outcome):
    result = actors[actor].execute(USERS)
    if outcome:
        assert only_error(result)["extensions"] == outcome
        assert result["data"] is None
    else:
        assert result["data"]["users"]["totalCount"] == 6
        assert {edge["node"]["username"] for edge in result["data"]["users"]["edges"]} >= {"alice", "bob", "root"}


@pytest.mark.parametrize(
    "actor, outcome",
    [
        ("anonymous", "UNAUTHENTICATED"),
        ("self", None),
        ("other", "NOT_FOUND"),
        ("task_viewer", "NOT_FOUND"),
        ("staff", None),
        ("user_viewer", None),
        ("superuser", None),
    ],
)
def test_node_for_a_user(actors, alice, actor, outcome):
    result = actors[actor].execute(USER_NODE, {"id": to_global_id("User", alice.pk)})
    if outcome:
        assert error_codes(result) == [outcome]
    else:
        assert result["data"]["node"] == {"username": "alice", "email": "alice@example.com"}


class TestFieldRulesThroughTaskOwners:
    @pytest.fixture(autouse=True)
    def task(self, alice):
        Task.objects.create(owner=alice, title="Buy milk")
        alice.groups.add(Group.objects.create(name="gardeners"))

    def owner(self, result):
        return result["data"]["tasks"]["edges"][0]["node"]["owner"]

    def test_the_owner_reads_their_own_fields(self, actors):
        result = actors["self"].execute(OWNERS)
        assert "errors" not in result, result
        owner = self.owner(result)
        assert (owner["email"], owner["roles"]) == ("alice@example.com", ["gardeners"])

    def test_a_superuser_who_is_not_staff_reads_what_staff_read(self, make_user, client_for):
        """Superusers hold every codename, so every rule counts them as staff (docs/permissions.md)."""
        root = client_for(make_user("root2", is_superuser=True, is_staff=False))
        result = root.execute(OWNERS.replace("roles", "roles permissions totpEnabled"))
        assert "errors" not in result, result
        owner = self.owner(result)
        assert (owner["email"], owner["roles"], owner["totpEnabled"]) == ("alice@example.com", ["gardeners"], False)
        assert owner["isStaff"] is False  # the stored flag, as the admin shows it

    @pytest.mark.parametrize("actor", ["staff", "superuser"])
    def test_staff_read_another_users_fields(self, actors, actor):
        result = actors[actor].execute(OWNERS)
        assert "errors" not in result, result
        assert self.owner(result)["email"] == "alice@example.com"
        assert self.owner(result)["roles"] == ["gardeners"]

    def test_a_task_viewer_sees_the_task_but_not_the_owners_private_fields(self, actors):
        result = actors["task_viewer"].execute(OWNERS)
        forbidden = {tuple(error["path"]): error["extensions"] for error in result["errors"]}
        assert forbidden == {
            ("tasks", "edges", 0, "node", "owner", "email"): {"code": "FORBIDDEN", "required": [VIEW_USER]},
            ("tasks", "edges", 0, "node", "owner", "lastLogin"): {"code": "FORBIDDEN"},
            ("tasks", "edges", 0, "node", "owner", "roles"): {"code": "FORBIDDEN"},
        }
        assert result["data"]["tasks"]["edges"][0]["node"] == {
            "title": "Buy milk",
            "owner": {"username": "alice", "isStaff": False, "email": None, "lastLogin": None, "roles": None},
        }

    def test_a_holder_of_view_user_reads_email_but_not_roles(self, actors, grant_role):
        result = actors["user_viewer"].execute(
            USER_NODE.replace("email", "email roles"), {"id": to_global_id("User", Task.objects.get().owner_id)}
        )
        assert result["data"]["node"] == {"username": "alice", "email": "alice@example.com", "roles": None}
        assert error_codes(result) == ["FORBIDDEN"]


USER_TASKS = """
query($id: ID!) { node(id: $id) { ... on User { username tasks { totalCount edges { node { title } } } } } }
"""


@pytest.mark.parametrize(
    "actor, outcome",
    [
        ("self", None),
        ("staff", None),
        ("superuser", None),
        ("user_viewer", {"code": "FORBIDDEN", "required": [VIEW_TASK]}),
    ],
)
def test_user_tasks(actors, alice, bob, actor, outcome):
    Task.objects.create(owner=alice, title="Mine")
    Task.objects.create(owner=bob, title="Not mine")
    result = actors[actor].execute(USER_TASKS, {"id": to_global_id("User", alice.pk)})
    user = result["data"]["node"]
    assert user["username"] == "alice"
    if outcome:
        assert only_error(result)["extensions"] == outcome
        assert user["tasks"] is None
    else:
        assert user["tasks"] == {"totalCount": 1, "edges": [{"node": {"title": "Mine"}}]}


def test_user_tasks_for_a_holder_of_both_codenames(alice, make_user, grant_role, client_for):
    Task.objects.create(owner=alice, title="Mine")
    both = grant_role(make_user("both"), VIEW_USER, VIEW_TASK, role="both")
    result = client_for(both).execute(USER_TASKS, {"id": to_global_id("User", alice.pk)})
    assert result["data"]["node"]["tasks"]["totalCount"] == 1


def test_me_tasks_filters_and_orders(client_for, alice):
    Task.objects.bulk_create([Task(owner=alice, title=title, completed=title == "B") for title in "CAB"])
    result = client_for(alice).execute(
        "{ me { tasks(filter: {completed: false}, orderBy: {field: TITLE, direction: ASC}) { edges { node { title } } } } }"
    )
    assert [edge["node"]["title"] for edge in result["data"]["me"]["tasks"]["edges"]] == ["A", "C"]


class TestSetUserRoles:
    @pytest.fixture
    def roles(self):
        def role(name, *codenames):
            group = Group.objects.create(name=name)
            for codename in codenames:
                app_label, name = codename.split(".")
                group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
            return group

        return {
            "readers": role("readers", VIEW_TASK),
            "admins": role("admins", CHANGE_USER, "accounts.delete_user", VIEW_TASK),
        }

    @pytest.fixture
    def manager(self, make_user, grant_role, client_for):
        return grant_role(make_user("manager"), CHANGE_USER, VIEW_TASK, role="managers")

    def roles_of(self, user):
        return sorted(user.groups.values_list("name", flat=True))

    def test_a_holder_of_change_user_grants_a_role_whose_codenames_they_hold(self, roles, manager, alice, client_for):
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["readers"]}
        )
        assert result == {"data": {"setUserRoles": {"username": "alice"}}}
        assert self.roles_of(alice) == ["readers"]

    def test_nobody_grants_a_codename_they_lack(self, roles, manager, alice, client_for):
        alice.groups.add(roles["readers"])
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["readers", "admins"]}
        )
        assert only_error(result)["extensions"] == {"code": "FORBIDDEN", "required": ["accounts.delete_user"]}
        assert self.roles_of(alice) == ["readers"]

    def test_not_even_to_themselves(self, roles, manager, client_for):
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", manager.pk), "roles": ["managers", "admins"]}
        )
        assert error_codes(result) == ["FORBIDDEN"]
        assert self.roles_of(manager) == ["managers"]

    def test_keeping_or_removing_roles_whose_codenames_they_hold(self, roles, manager, alice, client_for):
        alice.groups.add(roles["readers"], Group.objects.get(name="managers"))
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["managers"]}
        )
        assert result["data"]["setUserRoles"]["username"] == "alice"
        assert self.roles_of(alice) == ["managers"]
        client_for(manager).execute(SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": []})
        assert self.roles_of(alice) == []

    def test_roles_already_held_need_no_codenames_to_keep(self, roles, manager, alice, client_for):
        alice.groups.add(roles["admins"], roles["readers"])
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["admins", "readers"]}
        )
        assert result["data"]["setUserRoles"]["username"] == "alice"
        assert self.roles_of(alice) == ["admins", "readers"]

    @pytest.mark.parametrize("target", ["alice", "a superuser"])
    def test_nobody_removes_a_role_holding_a_codename_they_lack(self, roles, manager, make_user, client_for, target):
        user = make_user("root", is_superuser=True, is_staff=True) if target == "a superuser" else make_user("alice")
        user.groups.add(roles["admins"], roles["readers"])
        for wanted in (["readers"], []):
            result = client_for(manager).execute(SET_ROLES, {"userId": to_global_id("User", user.pk), "roles": wanted})
            assert only_error(result)["extensions"] == {"code": "FORBIDDEN", "required": ["accounts.delete_user"]}
        assert self.roles_of(user) == ["admins", "readers"]

    def test_granting_and_removing_at_once_lists_every_missing_codename(self, roles, manager, alice, client_for):
        roles["deleters"] = Group.objects.create(name="deleters")
        roles["deleters"].permissions.add(
            Permission.objects.get(content_type__app_label="tasks", codename="delete_task")
        )
        alice.groups.add(roles["admins"])
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["deleters"]}
        )
        assert only_error(result)["extensions"] == {
            "code": "FORBIDDEN",
            "required": ["accounts.delete_user", DELETE_TASK],
        }
        assert self.roles_of(alice) == ["admins"]

    def test_a_superuser_grants_any_role(self, roles, make_user, alice, client_for):
        result = client_for(make_user("root", is_superuser=True, is_staff=True)).execute(
            SET_ROLES.replace("username", "username roles"),
            {"userId": to_global_id("User", alice.pk), "roles": ["admins", "readers"]},
        )
        assert result == {"data": {"setUserRoles": {"username": "alice", "roles": ["admins", "readers"]}}}

    @pytest.mark.parametrize(
        "who, outcome",
        [
            ("anonymous", {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}),
            ("alice", {"code": "FORBIDDEN", "required": [CHANGE_USER]}),
            ("staff", {"code": "FORBIDDEN", "required": [CHANGE_USER]}),
            ("reader", {"code": "FORBIDDEN", "required": [CHANGE_USER]}),
        ],
    )
    def test_others_may_not(self, roles, alice, make_user, grant_role, client_for, who, outcome):
        clients = {
            "anonymous": lambda: GraphQLClient(),
            "alice": lambda: client_for(alice),
            "staff": lambda: client_for(make_user("staff", is_staff=True)),
            "reader": lambda: client_for(grant_role(make_user("reader"), VIEW_TASK)),
        }
        reader = make_user("victim")
        result = clients[who]().execute(SET_ROLES, {"userId": to_global_id("User", reader.pk), "roles": ["readers"]})
        assert only_error(result)["extensions"] == outcome
        assert self.roles_of(reader) == []

    def test_unknown_roles_are_bad_input(self, roles, manager, alice, client_for):
        result = client_for(manager).execute(
            SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["readers", "wizards", "nul\x00"]}
        )
        assert only_error(result)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "fieldErrors": {"roles": ["No role is named 'nul\\x00'.", "No role is named 'wizards'."]},
        }
        assert self.roles_of(alice) == []

    def test_unknown_and_malformed_user_ids(self, roles, manager, client_for):
        client = client_for(manager)
        missing = client.execute(SET_ROLES, {"userId": to_global_id("User", 10**9), "roles": []})
        assert error_codes(missing) == ["NOT_FOUND"]
        malformed = client.execute(SET_ROLES, {"userId": "nope", "roles": []})
        assert only_error(malformed)["extensions"] == {
            "code": "BAD_USER_INPUT",
            "fieldErrors": {"userId": ["Not a valid id."]},
        }

    def test_a_new_role_applies_to_the_next_request_with_the_same_token(self, roles, manager, alice, bob, client_for):
        Task.objects.create(owner=bob, title="Bob's")
        alice_client = client_for(alice)
        assert alice_client.execute("{ tasks { totalCount } }")["data"]["tasks"]["totalCount"] == 0
        client_for(manager).execute(SET_ROLES, {"userId": to_global_id("User", alice.pk), "roles": ["readers"]})
        assert alice_client.execute("{ tasks { totalCount } }")["data"]["tasks"]["totalCount"] == 1


OWNER_TASKS = "{ tasks { edges { node { owner { username tasks { totalCount } } } } } }"


@pytest.mark.parametrize(
    "actor, outcome",
    [("task_viewer", None), ("staff", None), ("superuser", None), ("anonymous", "UNAUTHENTICATED")],
)
def test_user_tasks_through_a_task_owner(actors, alice, actor, outcome):
    Task.objects.bulk_create([Task(owner=alice, title="One"), Task(owner=alice, title="Two")])
    result = actors[actor].execute(OWNER_TASKS)
    if outcome:
        assert error_codes(result) == [outcome]
    else:
        owners = [edge["node"]["owner"] for edge in result["data"]["tasks"]["edges"]]
        assert owners == [{"username": "alice", "tasks": {"totalCount": 2}}] * 2


def test_a_holder_of_view_user_alone_does_not_read_tasks_of_users(actors, alice):
    Task.objects.create(owner=alice, title="One")
    result = actors["user_viewer"].execute("{ users { edges { node { username tasks { totalCount } } } } }")
    rows = {edge["node"]["username"]: edge["node"]["tasks"] for edge in result["data"]["users"]["edges"]}
    assert rows["directory"] == {"totalCount": 0}  # their own
    assert rows["alice"] is None
    assert {error["extensions"]["code"] for error in result["errors"]} == {"FORBIDDEN"}
