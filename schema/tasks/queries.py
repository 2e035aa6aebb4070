from typing import Annotated

import strawberry

from schema.permissions import IsAuthenticated, authenticated_user, protected_field
from schema.relay import Page, paginated, parse_pk
from schema.tasks.types import FilterArgument, OrderArgument, Task, TaskConnection, task_listing
from tasks.selectors import VISIBLE_TASKS, visible_tasks


@strawberry.type
class TaskQueries:
    @protected_field(
        IsAuthenticated(),
        shows=VISIBLE_TASKS,
        description="One task by id.",
    )
    def task(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]
    ) -> Task:
        return Task.load(authenticated_user(info), parse_pk(id, "Task"))

    @protected_field(
        IsAuthenticated(),
        shows=VISIBLE_TASKS,
        description="The tasks the viewer may see.",
    )
    @paginated
    def tasks(
        self,
        info: strawberry.Info,
        page: Page,
        filter: FilterArgument = None,
        order_by: OrderArgument = None,
    ) -> TaskConnection:
        tasks, ordering = task_listing(info, visible_tasks(authenticated_user(info)), filter, order_by)
        return TaskConnection.paginate(tasks, ordering, page, info)
