from typing import Annotated

import strawberry

from schema.permissions import HasVerifiedEmail, IsAuthenticated, ObjectRule, authenticated_user, protected_mutation
from schema.relay import parse_pk, to_global_id
from schema.tasks.types import DeleteTaskPayload, Task
from tasks import services
from tasks.codenames import CHANGE_TASK, DELETE_TASK


@strawberry.input(description="A new task.")
class CreateTaskInput:
    title: str = strawberry.field(description="Short name: not blank, at most 200 characters.")
    description: str | None = strawberry.field(default="", description="Longer text, at most 10,000 characters.")
    completed: bool | None = strawberry.field(default=False, description="Whether the task is already done.")


@strawberry.input(description="Changes to a task; fields left out stay as they are.")
class UpdateTaskInput:
    title: str | None = strawberry.field(default=strawberry.UNSET, description="New title.")
    description: str | None = strawberry.field(default=strawberry.UNSET, description="New description.")
    completed: bool | None = strawberry.field(default=strawberry.UNSET, description="New state.")


TaskId = Annotated[strawberry.ID, strawberry.argument(description="The task's id.")]


def may_change_task(viewer_user, id, **_):
    services.task_to_change(viewer_user, parse_pk(id, "Task"))


def may_delete_task(viewer_user, id, **_):
    services.task_to_delete(viewer_user, parse_pk(id, "Task"))


@strawberry.type
class TaskMutations:
    @protected_mutation(IsAuthenticated(), HasVerifiedEmail(), description="Create a task owned by the viewer.")
    def create_task(
        self, info: strawberry.Info, input: Annotated[CreateTaskInput, strawberry.argument(description="The task.")]
    ) -> Task:
        return services.create_task(
            authenticated_user(info), title=input.title, description=input.description, completed=input.completed
        )

    @protected_mutation(
        IsAuthenticated(),
        HasVerifiedEmail(),
        ObjectRule(may_change_task, f"the task's owner or holds {CHANGE_TASK} (NOT_FOUND to whoever may not see it)"),
        description="Change a task.",
    )
    def update_task(
        self,
        info: strawberry.Info,
        id: TaskId,
        input: Annotated[UpdateTaskInput, strawberry.argument(description="The changes.")],
    ) -> Task:
        changes = {
            name: getattr(input, name)
            for name in services.EDITABLE_FIELDS
            if getattr(input, name) is not strawberry.UNSET
        }
        return services.update_task(authenticated_user(info), parse_pk(id, "Task"), changes)

    @protected_mutation(
        IsAuthenticated(),
        HasVerifiedEmail(),
        ObjectRule(may_delete_task, f"the task's owner or holds {DELETE_TASK} (NOT_FOUND to whoever may not see it)"),
        description="Delete a task.",
    )
    def delete_task(self, info: strawberry.Info, id: TaskId) -> DeleteTaskPayload:
        deleted = services.delete_task(authenticated_user(info), parse_pk(id, "Task"))
        return DeleteTaskPayload(deleted_id=to_global_id("Task", deleted))
