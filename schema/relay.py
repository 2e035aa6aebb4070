"""Relay: opaque global ids, the `node` lookup, and cursor pagination shared by every list.

Connections
-----------
Declare the edge and connection types of a node type once::

    TaskConnection = connection_type(TaskType, name="Task", noun="task")

This makes the GraphQL types `TaskEdge { cursor node }` and
`TaskConnection { edges pageInfo totalCount }`. A resolver returns a page of any queryset::

    return TaskConnection.paginate(
        queryset, ordering=("-created_at",), first=first, after=after, last=last, before=before
    )

with its arguments typed by the shared annotations `First`, `After`, `Last`, `Before`.

`ordering` names model fields (a leading "-" means descending); the primary key is added as the
last key so that every position is unique. Pages are keyset pages: a cursor holds the ordering
values of its row, so rows inserted or deleted between requests never shift a page, and each
page costs one query however deep it is (`totalCount`, when selected, costs one more).
`first` and `last` default to settings.GRAPHQL_PAGE_SIZE and may not exceed
settings.GRAPHQL_MAX_PAGE_SIZE; a negative or too large size, `first` together with `last`,
and a malformed or foreign cursor are BAD_USER_INPUT with `fieldErrors` on that argument.
`hasPreviousPage` when paging forward (and `hasNextPage` when paging backward) says whether a
cursor was given, as the Relay specification allows, rather than costing another query.
"""

import base64
import binascii
import json
from enum import Enum
from typing import Annotated

import strawberry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q
from strawberry import relay
from strawberry.types.field import StrawberryField
from strawberry.types.nodes import SelectedField

from accounts.exceptions import NotFound, ValidationFailed
from accounts.text import is_storable
from schema.permissions import inherit_visibility

_node_loaders = {}


def register_node(type_name, loader):
    """`loader(viewer_user, node_id)` returns the object or raises NotFound when hidden."""
    _node_loaders[type_name] = loader


def to_global_id(type_name, pk):
    return relay.to_base64(type_name, pk)


def parse_global_id(value, argument="id"):
    try:
        global_id = relay.GlobalID.from_id(value)
    except (ValueError, TypeError):
        raise ValidationFailed({argument: ["Not a valid id."]}) from None
    return global_id.type_name, global_id.node_id


def parse_pk(value, expected_type, argument="id"):
    """The primary key inside a global id of `expected_type`; another type's id is not found."""
    type_name, node_id = parse_global_id(value, argument)
    if type_name != expected_type:
        raise NotFound()
    if not (node_id.isascii() and node_id.isdigit()):  # "²".isdigit() too
        raise ValidationFailed({argument: ["Not a valid id."]})
    try:
        return int(node_id)
    except ValueError:  # more digits than int() converts: far past any primary key
        raise NotFound() from None


class _ComputedField(StrawberryField):
    def __init__(self, compute, **field_kwargs):
        super().__init__(default=None, **field_kwargs)
        self.compute = compute

    def get_result(self, source, info, args, kwargs):
        return self.compute(source)


def computed_field(compute, description, **field_kwargs):
    """A field worked out from its object by `compute(source)`, with no resolver.

    A resolver costs an Info object and argument handling for every object of a list; a field
    without one keeps Strawberry's fast path (and schema.execution's shortcut for plain fields).
    """
    return _ComputedField(compute, description=description, **field_kwargs)


def global_id_field(type_name):
    """The Node `id` of objects that have a `pk`; declare it as `_id: relay.GlobalID = global_id_field("Task")`.

    It replaces relay.Node's `id`, which has a resolver.
    """
    return computed_field(
        lambda source: to_global_id(type_name, source.pk),
        description="Opaque global id of this object.",
        python_name="_id",
        graphql_name="id",
    )


def load_node(viewer_user, value):
    type_name, _ = parse_global_id(value)
    loader = _node_loaders.get(type_name)
    if loader is None:
        raise NotFound()
    return loader(viewer_user, parse_pk(value, type_name))


First = Annotated[int | None, strawberry.argument(description="Return at most this many items from the start.")]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[int | None, strawberry.argument(description="Return at most this many items from the end.")]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = strawberry.enum_value("ASC", description="Smallest first (A to Z, oldest first).")
    DESC = strawberry.enum_value("DESC", description="Largest first (Z to A, newest first).")

    @property
    def prefix(self):
        """The prefix Django's order_by gives a field name for this direction."""
        return "-" if self is OrderDirection.DESC else ""


@inherit_visibility
@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first edge; null on an empty page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last edge; null on an empty page.")


class _Keys:
    """The ordering of one connection as (field, descending) pairs, ending with the primary key."""

    def __init__(self, queryset, ordering):
        self.connection = connections[queryset.db]
        meta = queryset.model._meta
        self.fields = []
        for name in ordering:
            descending = name.startswith("-")
            self.fields.append((meta.get_field(name.lstrip("-")), descending))
        last_descending = self.fields[-1][1] if self.fields else False
        self.fields.append((meta.pk, last_descending))
        self.names = [field.attname for field, _ in self.fields]

    def order_by(self, reverse=False):
        return [("-" if descending != reverse else "") + field.attname for field, descending in self.fields]

    def cursor(self, row):
        values = {field.attname: field.value_to_string(row) for field, _ in self.fields}
        return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode()

    def decode(self, cursor, argument):
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
            if not isinstance(values, dict) or sorted(values) != sorted(self.names):
                raise ValueError
            if any(not isinstance(value, str) or not is_storable(value) for value in values.values()):
                raise ValueError
            decoded = {field.attname: field.to_python(values[field.attname]) for field, _ in self.fields}
            for field, _ in self.fields:  # what the database cannot take (a date before year 1 in UTC...)
                field.get_db_prep_value(decoded[field.attname], self.connection)
            return decoded
        except (ValueError, TypeError, OverflowError, UnicodeError, binascii.Error, ValidationError):
            raise ValidationFailed({argument: ["Not a valid cursor for this list."]}) from None

    def beyond(self, values, forward):
        """Rows strictly after (`forward`) or before the row these values came from."""
        condition = Q()
        equal = {}
        for field, descending in self.fields:
            lookup = "lt" if descending == forward else "gt"
            condition |= Q(**equal, **{f"{field.attname}__{lookup}": values[field.attname]})
            equal[field.attname] = values[field.attname]
        return condition


def _page_size(value, argument):
    if value is None:
        return None
    maximum = settings.GRAPHQL_MAX_PAGE_SIZE
    if value < 0 or value > maximum:
        raise ValidationFailed({argument: [f"Must be between 0 and {maximum}."]})
    return value


def page_of(queryset, ordering, *, first=None, after=None, last=None, before=None):
    """(the ordering's keys, the rows, PageInfo) of a page of `queryset`; see the module docstring."""
    first, last = _page_size(first, "first"), _page_size(last, "last")
    if first is not None and last is not None:
        raise ValidationFailed({"last": ["Give first or last, not both."]})
    keys = _Keys(queryset, ordering)
    if after is not None:
        queryset = queryset.filter(keys.beyond(keys.decode(after, "after"), forward=True))
    if before is not None:
        queryset = queryset.filter(keys.beyond(keys.decode(before, "before"), forward=False))
    if last is not None:
        rows = list(queryset.order_by(*keys.order_by(reverse=True))[: last + 1])
        has_previous, has_next = len(rows) > last, before is not None
        rows = rows[:last][::-1]
    else:
        size = settings.GRAPHQL_PAGE_SIZE if first is None else first
        rows = list(queryset.order_by(*keys.order_by())[: size + 1])
        has_previous, has_next = after is not None, len(rows) > size
        rows = rows[:size]
    page_info = PageInfo(
        has_next_page=has_next,
        has_previous_page=has_previous,
        start_cursor=keys.cursor(rows[0]) if rows else None,
        end_cursor=keys.cursor(rows[-1]) if rows else None,
    )
    return keys, rows, page_info


def _fields_in(selections):
    """The fields of a selection list, looking through fragments."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:
            yield from _fields_in(selection.selections)


def selected_node_fields(info):
    """GraphQL names of the fields the client selects on `edges { node { ... } }` of this connection.

    For a resolver that prefetches only what the page will read.
    """
    edges = [field for connection in info.selected_fields for field in _fields_in(connection.selections)]
    nodes = [node for edge in edges if edge.name == "edges" for node in _fields_in(edge.selections)]
    return {field.name for node in nodes if node.name == "node" for field in _fields_in(node.selections)}


def connection_type(node_type, name, noun):
    """The `<name>Connection` type (with its `<name>Edge`) for pages of `node_type`."""

    @inherit_visibility
    @strawberry.type(name=f"{name}Edge", description=f"One {noun} in a page, with its cursor.")
    class Edge:
        node: node_type = strawberry.field(description=f"The {noun}.")
        cursor: str = computed_field(
            lambda edge: edge.keys.cursor(edge.node),
            description="Opaque position of this edge: pass it as after or before.",
        )
        keys: strawberry.Private[object]

    @inherit_visibility
    @strawberry.type(name=f"{name}Connection", description=f"A page of {noun}s, with cursors and the total.")
    class Connection:
        edges: list[Edge] = strawberry.field(description=f"The {noun}s of this page, in order.")
        page_info: PageInfo = strawberry.field(description="Where this page sits in the whole list.")
        queryset: strawberry.Private[object]

        @strawberry.field(description=f"How many {noun}s the whole list holds, across all pages.")
        def total_count(self) -> int:
            return self.queryset.count()

        @classmethod
        def paginate(cls, queryset, ordering, *, first=None, after=None, last=None, before=None):
            keys, rows, page_info = page_of(queryset, ordering, first=first, after=after, last=last, before=before)
            return cls(edges=[Edge(node=row, keys=keys) for row in rows], page_info=page_info, queryset=queryset)

    return Connection
