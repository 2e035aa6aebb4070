from collections.abc import AsyncGenerator
from enum import Enum

import strawberry

from accounts.authentication import Viewer
from schema.permissions import IsAuthenticated, inherit_visibility, protected_subscription
from schema.relay import to_global_id
from schema.tasks.types import Task
from tasks import events
from tasks.selectors import VISIBLE_TASKS, may_see


@strawberry.enum(description="What happened to a task.")
class TaskEventKind(Enum):
    CREATED = strawberry.enum_value(events.CREATED, description="The task was created.")
    UPDATED = strawberry.enum_value(events.UPDATED, description="The task was changed.")
    DELETED = strawberry.enum_value(events.DELETED, description="The task was deleted.")


@inherit_visibility
@strawberry.type(description="A committed change to a task the viewer may see.")
class TaskEvent:
    kind: TaskEventKind = strawberry.field(description="What happened.")
    task: Task | None = strawberry.field(
        description=(
            "The task as the change left it; null when it was deleted. Its fields obey the same rules as in a query."
        )
    )
    deleted_id: strawberry.ID | None = strawberry.field(description="Global id of the deleted task; only for DELETED.")
    # Whom the event's fields are resolved for (schema.sockets.context, SubscriptionRule).
    viewer: strawberry.Private[Viewer]

    @classmethod
    def of(cls, kind, task, viewer):
        if kind is TaskEventKind.DELETED:
            return cls(kind=kind, task=None, deleted_id=to_global_id("Task", task.pk), viewer=viewer)
        return cls(kind=kind, task=task, deleted_id=None, viewer=viewer)


@strawberry.type
class TaskSubscriptions:
    @protected_subscription(
        IsAuthenticated(),
        shows=VISIBLE_TASKS,
        description=(
            "Every change committed to a task the viewer may see at that moment. "
            "Over the WebSocket at /graphql/ (graphql-transport-ws)."
        ),
    )
    async def task_events(self, info: strawberry.Info) -> AsyncGenerator[TaskEvent, None]:
        async for change, viewer in info.context.listen(events.GROUP, events.change_from):
            if may_see(viewer.user, change.task):
                yield TaskEvent.of(TaskEventKind(change.kind), change.task, viewer)
