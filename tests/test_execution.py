"""The plain-field shortcut answers exactly what graphql-core's own execution answers."""

import json
from enum import Enum

import pytest
import strawberry

from schema.execution import PlainFieldShortcut


@strawberry.enum(description="A colour.")
class Colour(Enum):
    RED = "red"


@strawberry.type(description="An object with plain fields of every kind.")
class Item:
    name: str
    missing: str
    maybe: str | None
    count: int
    colour: Colour

    @strawberry.field
    def computed(self) -> str:
        return self.name.upper()


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item | None]:
        return [
            Item(name="a", missing="x", maybe=None, count=1, colour=Colour.RED),
            Item(name="b", missing=None, maybe="y", count="not a number", colour=Colour.RED),
        ]


DOCUMENTS = [
    "{ items { name maybe count colour computed } }",
    "{ items { missing name } }",
    "{ items { second: name first: name __typename ...more } } fragment more on Item { colour name }",
    "{ items { name @skip(if: true) maybe @include(if: true) } }",
]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_the_shortcut_changes_nothing_but_speed(document):
    standard = strawberry.Schema(query=Query).execute_sync(document)
    shortcut = strawberry.Schema(query=Query, execution_context_class=PlainFieldShortcut).execute_sync(document)
    assert json.dumps(shortcut.data) == json.dumps(standard.data)  # the same keys in the same order
    assert [(error.message, error.path) for error in shortcut.errors or []] == [
        (error.message, error.path) for error in standard.errors or []
    ]
