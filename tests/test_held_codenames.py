"""The codenames a user holds (accounts.backends.HeldCodenames): the ORM's query for them, compiled
once per connection, answers as the queryset does for grants made directly, through a role, or
not at all, in one query; and a list of one's own tasks is read by its owner alone."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from accounts.backends import HELD_CODENAMES, HeldCodenames, codenames
from tasks.codenames import VIEW_TASK
from tasks.models import Task

TASK_LIST = "{ tasks(first: 10) { totalCount edges { node { title owner { username } } } } }"


def as_the_queryset_reads_them(user):
    return codenames(Permission.objects.filter(Q(user=user) | Q(group__user=user)))


def test_each_user_gets_what_the_queryset_reads_in_one_query(make_user, grant_role, django_assert_num_queries):
    direct, through_role, both, nothing = (make_user(name) for name in ("direct", "role", "both", "nothing"))
    change_task = Permission.objects.get(content_type__app_label="tasks", codename="change_task")
    direct.user_permissions.add(change_task)
    grant_role(through_role, VIEW_TASK, "accounts.view_user", role="readers")
    grant_role(both, VIEW_TASK, role="task readers")
    both.user_permissions.add(change_task)
    expected = {
        direct: {"tasks.change_task"},
        through_role: {VIEW_TASK, "accounts.view_user"},
        both: {VIEW_TASK, "tasks.change_task"},
        nothing: set(),
    }
    for user, held in expected.items():
        with django_assert_num_queries(1):
            found = HELD_CODENAMES.of(user.pk)
        assert found == held == as_the_queryset_reads_them(user)


def test_it_is_compiled_once_per_connection(alice, bob, grant_role, monkeypatch):
    grant_role(bob, VIEW_TASK)
    lookup = HeldCodenames()
    assert lookup.of(alice.pk) == set()

    def compile_again(self, alias):
        raise AssertionError("compiled again")

    monkeypatch.setattr(HeldCodenames, "_compile", compile_again)
    assert lookup.of(bob.pk) == {VIEW_TASK}


def test_sql_unlike_the_one_expected_is_refused_loudly(alice, sql_with_a_parameter_more):
    with pytest.raises(RuntimeError, match="test_library_internals"):
        HeldCodenames().of(alice.pk)


@pytest.mark.parametrize("holds_view_task", [False, True], ids=["owner", "view_task holder"])
def test_a_list_is_read_by_its_owner_or_whole_never_by_a_condition_on_codenames(
    alice, bob, grant_role, client_for, holds_view_task
):
    """A list's query holds no question about codenames: `owner_id = X OR EXISTS(...)` kept the
    database from using the owner's index, and PostgreSQL read the whole table (docs/performance.md)."""
    Task.objects.create(owner=alice, title="Alice's")
    Task.objects.create(owner=bob, title="Bob's")
    if holds_view_task:
        grant_role(alice, VIEW_TASK)
    client = client_for(alice)
    with CaptureQueriesContext(connection) as queries:
        result = client.execute(TASK_LIST)
    assert "errors" not in result, result
    page = next(query["sql"] for query in queries if "COUNT(*) OVER" in query["sql"])
    assert "auth_permission" not in page
    assert ('WHERE "tasks_task"."owner_id" = ' in page) is not holds_view_task
    assert result["data"]["tasks"]["totalCount"] == (2 if holds_view_task else 1)
