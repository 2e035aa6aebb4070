"""tasks.services below HTTP: who may change or delete a task, and a refused change leaves it as it was."""

import pytest

from accounts.exceptions import Forbidden, NotFound, ValidationFailed
from tasks import services
from tasks.codenames import CHANGE_TASK, DELETE_TASK, VIEW_TASK
from tasks.models import Task


@pytest.fixture
def task(alice):
    return services.create_task(alice, "Write the report", "due Friday")


def stored(task):
    return Task.objects.values("title", "description", "completed").get(pk=task.pk)


def test_the_owner_changes_and_deletes_their_task(alice, task):
    services.update_task(alice, task.pk, {"title": "Send the report", "completed": True})
    assert stored(task) == {"title": "Send the report", "description": "due Friday", "completed": True}
    assert services.delete_task(alice, task.pk) == task.pk
    assert not Task.objects.filter(pk=task.pk).exists()


def test_someone_who_may_not_see_the_task_is_told_it_does_not_exist(bob, task):
    before = stored(task)
    with pytest.raises(NotFound):
        services.update_task(bob, task.pk, {"title": "mine now"})
    with pytest.raises(NotFound):
        services.delete_task(bob, task.pk)
    assert stored(task) == before


def test_who_may_see_but_not_change_is_forbidden_with_the_missing_codename(bob, task, grant_role):
    grant_role(bob, VIEW_TASK)
    with pytest.raises(Forbidden) as refused:
        services.update_task(bob, task.pk, {"completed": True})
    assert refused.value.required == [CHANGE_TASK]
    with pytest.raises(Forbidden) as refused:
        services.delete_task(bob, task.pk)
    assert refused.value.required == [DELETE_TASK]
    assert stored(task)["completed"] is False


def test_holders_of_the_codenames_change_and_delete_any_task(bob, make_user, task, grant_role):
    grant_role(bob, CHANGE_TASK)
    services.update_task(bob, task.pk, {"completed": True})
    assert stored(task)["completed"] is True
    # Who may delete any task may do so without seeing it.
    carol = grant_role(make_user("carol"), DELETE_TASK, role="deleters")
    services.delete_task(carol, task.pk)
    assert not Task.objects.filter(pk=task.pk).exists()


def test_a_missing_task_is_not_found(alice):
    with pytest.raises(NotFound):
        services.update_task(alice, 10_000, {"title": "x"})


def test_invalid_changes_are_refused_together_and_change_nothing(alice, task):
    before = stored(task)
    with pytest.raises(ValidationFailed) as refused:
        services.update_task(alice, task.pk, {"title": "  ", "description": "x" * 10_001, "completed": "yes"})
    assert set(refused.value.field_errors) == {"title", "description", "completed"}
    assert stored(task) == before


def test_only_editable_fields_change(alice, task):
    with pytest.raises(ValueError):
        services.update_task(alice, task.pk, {"owner_id": 2})


def test_a_new_task_must_be_valid(alice):
    with pytest.raises(ValidationFailed) as refused:
        services.create_task(alice, "a\x00b")
    assert set(refused.value.field_errors) == {"title"}
    assert not Task.objects.exists()
