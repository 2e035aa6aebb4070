from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.utils.str_converters import to_camel_case

from accounts.exceptions import NotFound
from schema.codenames import reading_verdict
from schema.permissions import inherit_visibility, refuse
from schema.relay import ModelNode, OrderDirection, connection_type, global_id_field
from tasks import models
from tasks.selectors import matching, visible_task

if TYPE_CHECKING:
    from schema.accounts.types import User


@inherit_visibility
@strawberry.type(description="A to-do item; it belongs to one user.")
class Task(ModelNode):
    model = models.Task
    pk: relay.NodeID[int]
    _id: relay.GlobalID = global_id_field("Task")
    title: str = strawberry.field(description="Short name, 1 to 200 characters.")
    description: str = strawberry.field(description="Longer text, up to 10,000 characters; may be empty.")
    completed: bool = strawberry.field(description="Whether the task is done.")
    created_at: datetime = strawberry.field(description="When the task was created.")
    updated_at: datetime = strawberry.field(description="When the task last changed.")
    owner: Annotated["User", strawberry.lazy("schema.accounts.types")] = strawberry.field(
        description="The user the task belongs to."
    )

    @classmethod
    def load(cls, viewer_user, pk):
        task = visible_task(viewer_user, pk)
        if task is None:
            raise NotFound()
        return task


TaskConnection = connection_type(Task, noun="task")


@strawberry.input(description="Narrows a list of tasks; every given condition must hold.")
class TaskFilter:
    completed: bool | None = strawberry.field(default=None, description="Only done (true) or open (false) tasks.")
    search: str | None = strawberry.field(
        default=None, description="Text the title or the description contains, ignoring case."
    )


@strawberry.enum(description="What a list of tasks is sorted by.")
class TaskOrderField(Enum):
    CREATED_AT = strawberry.enum_value("created_at", description="Creation time.")
    UPDATED_AT = strawberry.enum_value("updated_at", description="Time of the last change.")
    TITLE = strawberry.enum_value("title", description="Title, in the database's collation.")


@strawberry.input(description="The order of a list of tasks; tasks that tie keep a stable order.")
class TaskOrder:
    field: TaskOrderField = strawberry.field(description="What to sort by.")
    direction: OrderDirection = strawberry.field(description="Ascending or descending.")


FilterArgument = Annotated[TaskFilter | None, strawberry.argument(description="Conditions the tasks meet.")]
OrderArgument = Annotated[
    TaskOrder | None,
    strawberry.argument(description="Sort order; newest first when omitted. Only by a field the viewer may read."),
]

SEARCHED_FIELDS = ("title", "description")


def task_listing(info, tasks, filter, order_by):
    """(queryset, ordering) of a TaskConnection over `tasks`, filtered and ordered as the client asked.

    Arguments use only what the viewer may read (the field's rule and the operator's codenames),
    or they would reveal it: `search` skips fields the viewer may not read, a `completed` filter
    or an `orderBy` on one is FORBIDDEN, and the default order (newest first) goes by id when
    `createdAt` may not be read.
    """

    def readable(model_field):
        return reading_verdict(info, "Task", to_camel_case(model_field))

    if filter is not None:
        if filter.completed is not None:
            refuse(readable("completed"))
        searched = [name for name in SEARCHED_FIELDS if readable(name).allowed] if filter.search else ()
        tasks = matching(tasks, completed=filter.completed, search=filter.search, search_fields=searched)
    if order_by is not None:
        refuse(readable(order_by.field.value))
        ordering = (order_by.direction.prefix + order_by.field.value,)
    else:
        ordering = ("-created_at",) if readable("created_at").allowed else ("-id",)
    return tasks.select_related("owner"), ordering


@inherit_visibility
@strawberry.type(description="The result of deleting a task.")
class DeleteTaskPayload:
    deleted_id: strawberry.ID = strawberry.field(description="Global id of the task that was deleted.")
