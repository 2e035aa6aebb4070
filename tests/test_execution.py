"""The plain-field shortcut answers exactly what graphql-core's own execution answers.

So does BudgetedExecution, the executor GRAPHQL_EXECUTION_SHORTCUT=0 falls back to.
"""

import asyncio
import json
from enum import Enum

import pytest
import strawberry
from strawberry.schema.config import StrawberryConfig

from schema.execution import BudgetedExecution, PlainFieldShortcut

EXECUTORS = [PlainFieldShortcut, BudgetedExecution]


@strawberry.enum(description="A colour.")
class Colour(Enum):
    RED = "red"


class Row:
    """What resolvers return: a plain object, not an instance of the GraphQL type."""

    def __init__(self, **values):
        self.__dict__.update(values)


@strawberry.type(description="A leaf-only object.")
class Tag:
    label: str

    @classmethod
    def is_type_of(cls, obj, info):
        return isinstance(obj, Row) and hasattr(obj, "label")


@strawberry.type(description="An object with plain fields of every kind.")
class Item:
    name: str
    missing: str
    maybe: str | None
    count: int
    colour: Colour
    tag: Tag
    maybe_tag: Tag | None
    tags: list[Tag]
    maybe_tags: list[Tag] | None

    @strawberry.field
    def computed(self) -> str:
        return self.name.upper()

    @strawberry.field
    def failing(self) -> str | None:
        raise ValueError(f"failing on {self.name}")


@strawberry.type(description="An item whose fields are computed asynchronously too.")
class SlowItem(Item):
    @strawberry.field
    async def later(self) -> str:
        if self.name == "b":
            raise ValueError("later fails on b")
        return self.name

    @classmethod
    def is_type_of(cls, obj, info):
        return isinstance(obj, Row) and hasattr(obj, "name")


@strawberry.type(description="A list of slow items.")
class Box:
    items: list[SlowItem]
    maybe_items: list[SlowItem] | None

    @classmethod
    def is_type_of(cls, obj, info):
        return isinstance(obj, Row) and hasattr(obj, "items")


def tag(label):
    return Row(label=label)


ITEMS = [
    Row(
        name="a",
        missing="x",
        maybe=None,
        count=1,
        colour=Colour.RED,
        tag=tag("t"),
        maybe_tag=None,
        tags=[tag("1"), tag("2")],
        maybe_tags=[tag("3")],
    ),
    Row(
        name="b",
        missing=None,
        maybe="y",
        count="not a number",
        colour=Colour.RED,
        tag=tag(None),
        maybe_tag=tag(None),
        tags=[tag("4"), Row(other=1)],
        maybe_tags=[tag("5"), None],
    ),
    Row(
        name="c",
        missing="z",
        maybe="w",
        count=3,
        colour=Colour.RED,
        tag=Row(other=2),
        maybe_tag=Row(),
        tags=[],
        maybe_tags=None,
    ),
]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return ITEMS

    @strawberry.field
    def box(self) -> Box | None:
        return Row(items=ITEMS[:2], maybe_items=ITEMS[:2])


DOCUMENTS = [
    "{ items { name maybe count colour computed } }",
    "{ items { missing name } }",
    "{ items { second: name first: name __typename ...more } } fragment more on Item { colour name }",
    "{ items { name @skip(if: true) maybe @include(if: true) } }",
    "{ items { name tag { label } } }",
    "{ items { name maybeTag { label } } }",
    "{ items { name tags { label } } }",
    "{ items { name maybeTags { label } } }",
    "{ items { name failing tag { l: label } maybeTags { label } failing2: failing } }",
    "{ items { ... on Item { tags { ...t } } } } fragment t on Tag { label __typename }",
]


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_shortcut_changes_nothing_but_speed(document, executor):
    standard = strawberry.Schema(query=Query).execute_sync(document)
    shortcut = strawberry.Schema(query=Query, execution_context_class=executor).execute_sync(document)
    assert json.dumps(shortcut.data) == json.dumps(standard.data)  # the same keys in the same order
    assert [(error.message, error.path) for error in shortcut.errors or []] == [
        (error.message, error.path) for error in standard.errors or []
    ]


def test_what_is_plain_about_a_field_is_worked_out_once_per_schema(monkeypatch):
    from schema import execution

    document = "{ items { name tag { label } tags { label } } }"
    schema = strawberry.Schema(query=Query, execution_context_class=PlainFieldShortcut)
    answered = schema.execute_sync(document)
    worked_out = []
    for name in ("_plain_leaf", "_plain_objects"):
        monkeypatch.setattr(execution, name, lambda field_def, name=name: worked_out.append((name, field_def.type)))

    assert schema.execute_sync(document) == answered
    assert worked_out == []
    # Another schema has fields of its own, whose facts are its own.
    strawberry.Schema(query=Query, execution_context_class=PlainFieldShortcut).execute_sync(document)
    assert {name for name, _ in worked_out} == {"_plain_leaf", "_plain_objects"}


ASYNC_DOCUMENTS = [
    "{ box { items { name later tag { label } } } }",
    "{ box { maybeItems { name later } } }",
    "{ box { maybeItems { name tags { label } } } }",
    "{ box { items { name } maybeItems { later } } }",
]


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("document", DOCUMENTS + ASYNC_DOCUMENTS)
def test_and_so_does_asynchronous_execution(document, executor):
    standard = asyncio.run(strawberry.Schema(query=Query).execute(document))
    shortcut = asyncio.run(strawberry.Schema(query=Query, execution_context_class=executor).execute(document))
    assert json.dumps(shortcut.data) == json.dumps(standard.data)
    assert sorted((error.message, error.path) for error in shortcut.errors or []) == sorted(
        (error.message, error.path) for error in standard.errors or []
    )


INCREMENTAL_DOCUMENTS = [
    '{ items { name ... @defer(label: "rest") { computed failing tag { label } } } }',
    "{ items { name tags @stream(initialCount: 1) { label } } }",
    "{ items { name maybeTags @stream(initialCount: 0) { label __typename } } }",
    "{ box { items @stream(initialCount: 1) { name later ... @defer { tags { label } } } } }",
    "{ items { ...rest @defer count } } fragment rest on Item { tag { label } maybeTag { label } }",
]


async def every_payload(result):
    """The initial payload and every later one of an incremental result, as the client reads them."""
    payloads = [result.initial_result.formatted]
    async for later in result.subsequent_results:
        payloads.append(later.formatted)
    return payloads


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("document", INCREMENTAL_DOCUMENTS)
def test_and_so_does_incremental_delivery(document, executor):
    """@defer and @stream (off in the server's schema, on here) are left to graphql-core whole."""
    config = StrawberryConfig(enable_experimental_incremental_execution=True)

    def payloads(**executor_class):
        schema = strawberry.Schema(query=Query, config=config, **executor_class)
        return asyncio.run(every_payload(asyncio.run(schema.execute(document))))

    standard = payloads()
    assert len(standard) > 1  # the document did defer or stream something
    assert json.dumps(payloads(execution_context_class=executor)) == json.dumps(standard)


SERVER_DOCUMENTS = [
    # Plain fields all the way down (the selection plans), with aliases, fragments and __typename.
    """{ tasks(first: 5) { edges { cursor node { id title t2: title __typename ...dates owner { username } } } } }
    fragment dates on Task { createdAt updatedAt completed }""",
    # Rules inside the list: others' emails are refused, each at its own path, the rest answered.
    "{ tasks(first: 5) { totalCount edges { node { title owner { username email emailVerified } } } } }",
    # A field needing the database for the whole batch (roles), refused for other owners.
    "{ tasks(first: 5) { edges { node { title owner { id roles } } } } }",
    "{ me { id username tasks(first: 3) { edges { node { id description owner { username } } } } } }",
]


@pytest.mark.parametrize("document", SERVER_DOCUMENTS)
def test_the_servers_answers_are_graphql_cores(document, monkeypatch, make_user, grant_role, client_for):
    """The server's schema with its execution (shortcut and selection plans) answers, through the
    whole stack, what the same schema answers when graphql-core executes every field."""
    from schema import views
    from schema.schema import build_schema
    from tasks.models import Task

    viewer = grant_role(make_user("auditor"), "tasks.view_task")
    for owner in (viewer, make_user("owner")):
        Task.objects.bulk_create([Task(owner=owner, title=f"{owner.username} {index}") for index in range(3)])
    client = client_for(viewer)
    answered = client.execute(document)
    monkeypatch.setattr(views, "schema", build_schema(tracing=False, shortcut=False))
    assert views.schema.execution_context_class is BudgetedExecution
    assert json.dumps(client.execute(document)) == json.dumps(answered)
    assert answered["data"] is not None
