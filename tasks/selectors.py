"""Which tasks a viewer may see: the one rule every path to a task uses."""

from functools import partial

from accounts.compiled_lookup import CompiledLookup
from accounts.staff import is_staff
from accounts.text import containing
from tasks.codenames import CHANGE_TASK, VIEW_TASK
from tasks.models import Task

# Changing implies reading, as in Django's admin: who may change every task may see every task.
SEE_ALL_CODENAMES = (VIEW_TASK, CHANGE_TASK)
SEES_ALL_TASKS = "staff or holds " + " or ".join(SEE_ALL_CODENAMES)


def can_see_all_tasks(viewer_user):
    """Staff, and holders of tasks.view_task or tasks.change_task, see every task."""
    return is_staff(viewer_user) or any(viewer_user.has_perm(codename) for codename in SEE_ALL_CODENAMES)


VISIBLE_TASKS = f"the viewer's own tasks, or every task when the viewer is {SEES_ALL_TASKS}"


def visible_tasks(viewer_user):
    """The viewer's own tasks, or every task for those who may see all.

    The viewer's codenames are asked before the list is read (one query, kept for the request),
    so the list's query is either all tasks or those of one owner, which its index answers: a
    condition "the owner, or the viewer holds a codename" inside the query read the whole table
    (docs/performance.md).
    """
    tasks = Task.objects.all()
    return tasks if can_see_all_tasks(viewer_user) else tasks.filter(owner=viewer_user)


def may_see(viewer_user, task):
    """Whether the viewer may see `task` (a row, or a snapshot of one): visible_tasks' rule for one task."""
    return task.owner_id == viewer_user.pk or can_see_all_tasks(viewer_user)


# A task with its owner, by id (and by owner): what task(id:) reads, compiled once (accounts.compiled_lookup).
TASK_WITH_OWNER = CompiledLookup(Task, "pk", related="owner")
OWN_TASK_WITH_OWNER = CompiledLookup(Task, "pk", related="owner", also=("owner",))


def visible_task(viewer_user, task_id, tasks=None):
    """The task (from `tasks`, default all tasks with their owners), or None when it does not exist or
    the viewer may not see it.

    The viewer's own task is read first, with a query that holds both the id and the owner, so
    the usual reader needs no codename lookup. Any other id costs the same work whether a task
    has it or not: that query, the viewer's codenames, and, only for those who may see every
    task, a read by id. So NOT_FOUND cannot tell by its timing a hidden task from a missing one.
    """
    if tasks is None:
        own = partial(OWN_TASK_WITH_OWNER.find, task_id, viewer_user.pk)
        anyones = partial(TASK_WITH_OWNER.find, task_id)
    else:
        own = partial(_one, tasks.filter(pk=task_id, owner=viewer_user))
        anyones = partial(_one, tasks.filter(pk=task_id))
    found = own()
    if found is not None or not can_see_all_tasks(viewer_user):
        return found
    return anyones()


def _one(tasks):
    # get() rather than first(): no ORDER BY to compile for a lookup by primary key.
    try:
        return tasks.get()
    except Task.DoesNotExist:
        return None


def matching(tasks, completed=None, search=None, search_fields=("title", "description")):
    """`search` matches any of `search_fields`, ignoring case; with none to search it matches nothing."""
    if completed is not None:
        tasks = tasks.filter(completed=completed)
    return containing(tasks, search, search_fields) if search else tasks
