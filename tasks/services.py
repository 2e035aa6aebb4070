"""Creating, changing and deleting tasks, with their rules; each runs in one transaction.

Who may change a task: its owner, or a holder of tasks.change_task (tasks.delete_task to delete
it). Anyone else who may see the task (tasks.selectors) is refused with the missing codename;
whoever may not even see it is told it does not exist.
"""

from django.db import transaction

from accounts.exceptions import Forbidden, NotFound, ValidationFailed
from accounts.text import is_storable
from tasks.codenames import CHANGE_TASK, DELETE_TASK
from tasks.models import Task
from tasks.selectors import visible_task

EDITABLE_FIELDS = ("title", "description", "completed")


def _task_for(actor, task_id, codename, lock=False):
    tasks = Task.objects.select_for_update() if lock else Task.objects.all()
    task = visible_task(actor, task_id, tasks)
    if task is None and actor.has_perm(codename):
        # Who may delete any task may do so without seeing it. Asked only after visible_task
        # has looked the viewer's codenames up, so a hidden task still costs what a missing one does.
        task = tasks.filter(pk=task_id).first()
    if task is None:
        raise NotFound()
    if task.owner_id != actor.pk and not actor.has_perm(codename):
        raise Forbidden(required=[codename])
    return task


def task_to_change(actor, task_id):
    return _task_for(actor, task_id, CHANGE_TASK)


def task_to_delete(actor, task_id):
    return _task_for(actor, task_id, DELETE_TASK)


def _text_errors(value, max_length, required):
    if not isinstance(value, str):
        return ["Must be text."]
    errors = []
    if required and not value.strip():
        errors.append("Must not be blank.")
    if len(value) > max_length:
        errors.append(f"Must be at most {max_length} characters.")
    if not is_storable(value):
        errors.append("Must not contain NUL characters or lone surrogates.")
    return errors


def _validate(task):
    errors = {
        "title": _text_errors(task.title, Task.TITLE_MAX_LENGTH, required=True),
        "description": _text_errors(task.description, Task.DESCRIPTION_MAX_LENGTH, required=False),
        "completed": [] if isinstance(task.completed, bool) else ["Must be true or false."],
    }
    errors = {name: messages for name, messages in errors.items() if messages}
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def create_task(owner, title, description="", completed=False):
    task = Task(owner=owner, title=title, description=description, completed=completed)
    _validate(task)
    task.save()
    return task


@transaction.atomic
def update_task(actor, task_id, changes):
    """`changes` maps some of EDITABLE_FIELDS to new values; the others stay as they are."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {sorted(unknown)}")
    task = _task_for(actor, task_id, CHANGE_TASK, lock=True)
    if changes:
        for name, value in changes.items():
            setattr(task, name, value)
        _validate(task)
        task.save(update_fields=[*changes, "updated_at"])
    return task


@transaction.atomic
def delete_task(actor, task_id):
    task = _task_for(actor, task_id, DELETE_TASK, lock=True)
    task.delete()
    return task_id
