from typing import Annotated

import strawberry

from accounts.exceptions import NotFound
from schema.permissions import IsAuthenticated, authenticated_user, protected_field
from schema.relay import After, Before, First, Last, parse_pk, register_node
from schema.tasks.types import FilterArgument, OrderArgument, TaskConnection, TaskType, task_listing
from tasks.selectors import VISIBLE_TASKS, visible_task, visible_tasks


def load_task_node(viewer_user, pk):
    task = visible_task(viewer_user, pk)
    if task is None:
        raise NotFound()
    return task


register_node("Task", load_task_node)


@strawberry.type
class TaskQueries:
    @protected_field(
        IsAuthenticated(),
        shows=VISIBLE_TASKS,
        description="One task by id: the viewer's own; staff and holders of tasks.view_task or tasks.change_task read any.",
    )
    def task(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]
    ) -> TaskType:
        return load_task_node(authenticated_user(info), parse_pk(id, "Task"))

    @protected_field(
        IsAuthenticated(),
        shows=VISIBLE_TASKS,
        description=(
            "The tasks the viewer may see: their own; staff and holders of tasks.view_task or tasks.change_task see all."
        ),
    )
    def tasks(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        filter: FilterArgument = None,
        order_by: OrderArgument = None,
    ) -> TaskConnection:
        tasks, ordering = task_listing(info, visible_tasks(authenticated_user(info)), filter, order_by)
        return TaskConnection.paginate(tasks, ordering, info, first=first, after=after, last=last, before=before)
