"""Which tasks a viewer may see."""

from django.db.models import Q

from accounts.text import is_storable

from tasks.models import Task

VIEW_TASK = "tasks.view_task"


def can_see_all_tasks(viewer_user):
    return viewer_user.is_staff or viewer_user.has_perm(VIEW_TASK)


def can_see(viewer_user, task):
    return task.owner_id == viewer_user.pk or can_see_all_tasks(viewer_user)


def visible_tasks(viewer_user):
    """The viewer's own tasks; staff and holders of tasks.view_task see everyone's."""
    tasks = Task.objects.all()
    return tasks if can_see_all_tasks(viewer_user) else tasks.filter(owner=viewer_user)


def matching(tasks, completed=None, search=None):
    """`search` matches the title or the description, ignoring case."""
    if completed is not None:
        tasks = tasks.filter(completed=completed)
    if search:
        tasks = tasks.none() if not is_storable(search) else tasks.filter(
            Q(title__icontains=search) | Q(description__icontains=search)
        )
    return tasks
