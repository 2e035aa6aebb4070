"""Whether a user holds a codename, asked inside another query (accounts.backends.HoldsAny): the
SQL and parameters of the Exists subquery it stands for, compiled once per connection, and the
same answers as has_perm for grants made directly, through a role, or not at all."""

import pytest
from django.contrib.auth.models import Permission
from django.db.models import Exists, Q

from accounts.backends import HoldsAny, held_permissions, holds_any
from accounts.models import User
from tasks.codenames import CHANGE_TASK, VIEW_TASK
from tasks.models import Task

SEE_ALL = (VIEW_TASK, CHANGE_TASK)


def compiled(queryset):
    return queryset.query.get_compiler(using="default").as_sql()


def test_its_sql_and_parameters_are_those_of_the_exists_subquery(alice, bob):
    for user in (alice, bob):
        owned = Q(owner=user)
        expected = compiled(Task.objects.filter(owned | Q(Exists(held_permissions(user, SEE_ALL)))))
        assert compiled(Task.objects.filter(owned | Q(HoldsAny(user.pk, SEE_ALL)))) == expected
        assert user.pk in expected[1]


def holds(user, codenames):
    # A fresh instance: has_perm keeps what it loaded on the user object.
    fresh = User.objects.get(pk=user.pk)
    asked = holds_any(fresh, codenames)
    assert isinstance(asked, HoldsAny), "asked inside the query, no codename loaded"
    answered = User.objects.filter(pk=user.pk).filter(asked).exists()
    assert answered == any(User.objects.get(pk=user.pk).has_perm(codename) for codename in codenames)
    return answered


def test_it_answers_as_has_perm_for_each_user_with_the_same_compiled_sql(make_user, grant_role):
    direct, through_role, unrelated, nothing = (make_user(name) for name in ("direct", "role", "unrelated", "nothing"))
    direct.user_permissions.add(Permission.objects.get(content_type__app_label="tasks", codename="change_task"))
    grant_role(through_role, VIEW_TASK)
    grant_role(unrelated, "tasks.add_task", role="adders")

    assert holds(direct, SEE_ALL)
    assert holds(through_role, SEE_ALL)
    assert not holds(unrelated, SEE_ALL)
    assert not holds(nothing, SEE_ALL)
    assert holds(unrelated, ("tasks.add_task",))
    assert not holds(direct, (VIEW_TASK,))


def test_it_is_compiled_once_per_connection(alice, bob, grant_role, monkeypatch):
    grant_role(bob, VIEW_TASK)
    Task.objects.create(owner=alice, title="Alice's")
    assert not Task.objects.filter(HoldsAny(alice.pk, SEE_ALL)).exists()

    def compile_again(self, connection):
        raise AssertionError("compiled again")

    monkeypatch.setattr(HoldsAny, "_compile", compile_again)
    assert Task.objects.filter(HoldsAny(bob.pk, SEE_ALL)).exists()
    assert not Task.objects.filter(HoldsAny(alice.pk, SEE_ALL)).exists()


@pytest.mark.parametrize("user_is", ["superuser", "inactive"])
def test_no_query_is_needed_when_the_answer_is_known(make_user, user_is):
    user = make_user("known", is_superuser=user_is == "superuser", is_active=user_is != "inactive")
    assert holds_any(user, SEE_ALL) is (user_is == "superuser")
