"""Which tasks a viewer may see: the one rule every path to a task uses."""

from django.db.models import Q

from accounts.backends import holding_any
from accounts.staff import is_staff
from accounts.text import is_storable

from tasks.models import Task

VIEW_TASK = "tasks.view_task"
CHANGE_TASK = "tasks.change_task"
# Changing implies reading, as in Django's admin: who may change every task may see every task.
SEE_ALL_CODENAMES = (VIEW_TASK, CHANGE_TASK)
SEES_ALL_TASKS = "staff or holds " + " or ".join(SEE_ALL_CODENAMES)


def can_see_all_tasks(viewer_user):
    """Staff, and holders of tasks.view_task or tasks.change_task, see every task."""
    return is_staff(viewer_user) or any(viewer_user.has_perm(codename) for codename in SEE_ALL_CODENAMES)


VISIBLE_TASKS = f"the viewer's own tasks, or every task when the viewer is {SEES_ALL_TASKS}"


def visible_tasks(viewer_user):
    """The viewer's own tasks, or every task for those can_see_all_tasks lets see all.

    The same rule, put to the database: the codenames part is a condition of the query
    (holding_any asks what has_perm asks), so a query for tasks costs no codename lookup first.
    """
    tasks = Task.objects.all()
    if is_staff(viewer_user):
        return tasks
    return tasks.filter(Q(owner=viewer_user) | holding_any(viewer_user, SEE_ALL_CODENAMES))


def visible_task(viewer_user, task_id):
    """The task, or None when it does not exist or the viewer may not see it.

    One query holds both the id and the rule, so a hidden task costs exactly what a missing one
    costs: their NOT_FOUND cannot be told apart by timing.
    """
    try:
        return visible_tasks(viewer_user).select_related("owner").get(pk=task_id)
    except Task.DoesNotExist:
        return None


def matching(tasks, completed=None, search=None, search_fields=("title", "description")):
    """`search` matches any of `search_fields`, ignoring case; with none to search it matches nothing."""
    if completed is not None:
        tasks = tasks.filter(completed=completed)
    if search:
        if not is_storable(search) or not search_fields:
            return tasks.none()
        condition = Q()
        for field in search_fields:
            condition |= Q(**{f"{field}__icontains": search})
        tasks = tasks.filter(condition)
    return tasks
