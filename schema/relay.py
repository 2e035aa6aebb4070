"""Relay: opaque global ids, the `node` lookup, and cursor pagination shared by every list.

Nodes
-----
A Node type subclasses ModelNode, names its model and defines its own lookup::

    @strawberry.type(description="A to-do item; it belongs to one user.")
    class Task(ModelNode):
        model = models.Task
        pk: relay.NodeID[int]
        _id: relay.GlobalID = global_id_field("Task")

        @classmethod
        def load(cls, viewer_user, pk):
            ...

`node(id:)` asks the type its id names (load_node).

Connections
-----------
Declare the edge and connection types of a node type once::

    TaskConnection = connection_type(Task, noun="task")

This makes the GraphQL types `TaskEdge { cursor node }` and
`TaskConnection { edges pageInfo totalCount }`. A field that returns one is `@paginated`: the
`page: Page` parameter of its resolver stands for the four arguments `first`, `after`, `last` and
`before`, which the resolver receives as one Page and hands on with any queryset::

    @protected_field(IsAuthenticated(), description="...")
    @paginated
    def tasks(self, info: strawberry.Info, page: Page, filter: FilterArgument = None) -> TaskConnection:
        return TaskConnection.paginate(queryset, ("-created_at",), page, info)

`ordering` names model fields (a leading "-" means descending); the primary key is added as the
last key so that every position is unique. Pages are keyset pages. A cursor holds only its
row's primary key, so nothing the viewer may not read can be decoded from it
(docs/permissions.md); the page query reads the row's ordering values from the list itself, by
subqueries, so rows inserted or deleted elsewhere never shift a page, and each page costs one query however deep it
is (`totalCount`, when selected, is read by the same query without a cursor and costs one more
with one; both `after` and `before` together, one more).
A cursor whose row has left the list (deleted, or no longer matching the filter) is
BAD_USER_INPUT asking to start again: its position cannot be known without its values.
`first` and `last` default to settings.GRAPHQL_PAGE_SIZE and may not exceed
settings.GRAPHQL_MAX_PAGE_SIZE; a negative or too large size, `first` together with `last`,
and a malformed cursor are BAD_USER_INPUT with `fieldErrors` on that argument.
`hasPreviousPage` when paging forward (and `hasNextPage` when paging backward) says whether a
cursor was given, as the Relay specification allows, rather than costing another query.
"""

import base64
import binascii
import inspect
from dataclasses import astuple, dataclass
from enum import Enum
from functools import cache, wraps
from typing import Annotated

import strawberry
from django.conf import settings
from django.db.models import Count, F, Q, Subquery, Window
from django.db.models.functions import RowNumber
from strawberry import relay
from strawberry.types.field import StrawberryField
from strawberry.types.nodes import SelectedField

from accounts.exceptions import NotFound, ValidationFailed
from schema.batching import group
from schema.columns import column_plan, row_class
from schema.permissions import inherit_visibility, lists_objects_of


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
    def __init__(self, compute, reads=None, **field_kwargs):
        super().__init__(default=None, **field_kwargs)
        self.compute = compute
        # The attributes `compute` reads, when known: a page may then be read as rows of those
        # columns (schema.columns).
        self.reads = reads

    def get_result(self, source, info, args, kwargs):
        return self.compute(source)


def computed_field(compute, description, reads=None, **field_kwargs):
    """A field worked out from its object by `compute(source)`, with no resolver.

    A resolver costs an Info object and argument handling for every object of a list; a field
    without one keeps Strawberry's fast path (and schema.execution's shortcut for plain fields).
    """
    return _ComputedField(compute, reads=reads, description=description, **field_kwargs)


def global_id_field(type_name):
    """The Node `id` of objects that have a `pk`; declare it as `_id: relay.GlobalID = global_id_field("Task")`.

    It replaces relay.Node's `id`, which has a resolver.
    """
    return computed_field(
        lambda source: to_global_id(type_name, source.pk),
        description="Opaque global id of this object.",
        reads=("pk",),
        python_name="_id",
        graphql_name="id",
    )


def node_type_name(value):
    """The type a global id names (BAD_USER_INPUT when it is no global id)."""
    return parse_global_id(value)[0]


class ModelNode(relay.Node):
    """A Node type backed by a Django model, with its own node lookup.

    A subclass names its `model` (objects of it are of this type: is_type_of) and defines
    `load(viewer_user, pk)`, which returns the object or raises NotFound when the viewer may not
    see it; `node(id:)` asks the type the id names. A subclass without both is refused as it is
    declared, so no Node type can be left answering NOT_FOUND for want of a lookup.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        missing = [name for name in ("model", "load") if name not in vars(cls)]
        if missing:
            raise TypeError(f"{cls.__name__} must define {' and '.join(missing)}: see schema.relay.ModelNode")

    @classmethod
    def is_type_of(cls, obj, info):
        return isinstance(obj, (cls.model, row_class(cls.model), cls))


def load_node(info, viewer_user, value):
    """The object a global id names, looked up by its type's own `load`; NOT_FOUND for an id of no such type."""
    type_name, _ = parse_global_id(value)
    definition = info.schema.get_type_by_name(type_name)
    node_type = getattr(definition, "origin", None)
    if not (isinstance(node_type, type) and issubclass(node_type, ModelNode)):
        raise NotFound()
    return node_type.load(viewer_user, parse_pk(value, type_name))


def selects(info, field_name):
    """Whether the selection of `info`'s field names `field_name` among its own fields (through
    fragments too; @skip and @include are not evaluated, so it may say yes for a skipped one)."""
    pending = [selection for field in info.selected_fields for selection in field.selections]
    while pending:
        selection = pending.pop()
        if not isinstance(selection, SelectedField):  # a fragment: its selections are the field's own
            pending.extend(selection.selections)
        elif selection.name == field_name:
            return True
    return False


@dataclass(frozen=True)
class Page:
    """Which page of a list a client asked for: the four arguments of every connection field."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None


PAGE_ARGUMENTS = {
    "first": Annotated[int | None, strawberry.argument(description="Return at most this many items from the start.")],
    "after": Annotated[str | None, strawberry.argument(description="Return items after this cursor.")],
    "last": Annotated[int | None, strawberry.argument(description="Return at most this many items from the end.")],
    "before": Annotated[str | None, strawberry.argument(description="Return items before this cursor.")],
}


def paginated(resolver):
    """A connection field's resolver: its `page: Page` parameter becomes the arguments first,
    after, last and before in the schema, and it receives them together as a Page."""
    signature = inspect.signature(resolver)
    parameters = []
    for parameter in signature.parameters.values():
        if parameter.name != "page":
            parameters.append(parameter)
            continue
        parameters += [
            inspect.Parameter(name, parameter.kind, default=None, annotation=annotation)
            for name, annotation in PAGE_ARGUMENTS.items()
        ]

    @wraps(resolver)
    def resolve(*args, first=None, after=None, last=None, before=None, **kwargs):
        return resolver(*args, page=Page(first, after, last, before), **kwargs)

    resolve.__signature__ = signature.replace(parameters=parameters)
    resolve.__annotations__ = {
        **{parameter.name: parameter.annotation for parameter in parameters},
        "return": signature.return_annotation,
    }
    return resolve


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


_MAX_PK = 2**63 - 1  # the largest BigAutoField; a larger number is no row's


class _Keys:
    """The ordering of one connection as (field, descending) pairs, ending with the primary key."""

    def __init__(self, queryset, ordering):
        self.queryset = queryset
        meta = queryset.model._meta
        self.fields = [(meta.get_field(name.lstrip("-")), name.startswith("-")) for name in ordering]
        if not self.fields or self.fields[-1][0] != meta.pk:
            last_descending = self.fields[-1][1] if self.fields else False
            self.fields.append((meta.pk, last_descending))

    def order_by(self, reverse=False):
        return [("-" if descending != reverse else "") + field.attname for field, descending in self.fields]

    @staticmethod
    def cursor(row):
        return base64.urlsafe_b64encode(str(row.pk).encode()).decode()

    @staticmethod
    def decode(cursor, argument):
        """The primary key a cursor holds."""
        try:
            text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
        except (ValueError, UnicodeError, binascii.Error):
            text = ""
        if not (text.isascii() and text.isdigit() and len(text) <= len(str(_MAX_PK)) and int(text) <= _MAX_PK):
            raise ValidationFailed({argument: ["Not a valid cursor for this list."]})
        return int(text)

    def beyond(self, pk, forward):
        """Rows strictly after (`forward`) or before the row `pk` of the list.

        The row's ordering values are read by subqueries of the same query, from the list
        itself: a cursor naming a row outside it (someone else's task) compares with nothing.
        """
        row = self.queryset.filter(pk=pk).order_by()
        condition = Q()
        equal = {}
        for field, descending in self.fields:
            value = pk if field.primary_key else Subquery(row.values(field.attname)[:1])
            lookup = "lt" if descending == forward else "gt"
            condition |= Q(**equal, **{f"{field.attname}__{lookup}": value})
            equal[field.attname] = value
        return condition


def _gone(argument):
    return ValidationFailed({argument: ["This cursor's item is no longer in the list; start again without a cursor."]})


def _page_size(value, argument):
    if value is None:
        return None
    maximum = settings.GRAPHQL_MAX_PAGE_SIZE
    if value < 0 or value > maximum:
        raise ValidationFailed({argument: [f"Must be between 0 and {maximum}."]})
    return value


class _PageRequest:
    """A page's arguments checked, and how its rows are read and judged; see the module docstring."""

    def __init__(self, queryset, ordering, first, after, last, before):
        first, last = _page_size(first, "first"), _page_size(last, "last")
        if first is not None and last is not None:
            raise ValidationFailed({"last": ["Give first or last, not both."]})
        self.keys = keys = _Keys(queryset, ordering)
        cursors = {
            argument: keys.decode(cursor, argument)
            for argument, cursor in (("after", after), ("before", before))
            if cursor is not None
        }
        self.between = Q()
        if "after" in cursors:
            self.between &= keys.beyond(cursors["after"], forward=True)
        if "before" in cursors:
            self.between &= keys.beyond(cursors["before"], forward=False)
        self.backward = last is not None
        self.after, self.before = after, before
        # The anchor is the cursor the page starts from. It is read with the page: it sorts just
        # before the page's rows, so the same query tells whether it is still in the list.
        self.anchor_argument, self.far_argument = ("before", "after") if self.backward else ("after", "before")
        self.anchor = cursors.get(self.anchor_argument)
        self.far = cursors.get(self.far_argument)
        self.size = last if self.backward else (settings.GRAPHQL_PAGE_SIZE if first is None else first)
        # The page, one more row to tell whether more follow, and the anchor.
        self.rows_to_read = self.size + 1 + (self.anchor is not None)
        self.order = keys.order_by(reverse=self.backward)

    def rows(self, queryset):
        """The rows of the list from the anchor on, in the page's order."""
        condition = Q(pk=self.anchor) | self.between if self.anchor is not None else self.between
        return queryset.filter(condition)

    def page(self, rows):
        """(rows, PageInfo) of the page, from the rows read in order; ValidationFailed when the anchor has gone."""
        if self.anchor is not None:
            if not rows or rows[0].pk != self.anchor:
                raise _gone(self.anchor_argument)
            rows = rows[1:]
        more, rows = len(rows) > self.size, rows[: self.size]
        if self.backward:
            rows.reverse()
            has_previous, has_next = more, self.before is not None
        else:
            has_previous, has_next = self.after is not None, more
        page_info = PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=self.keys.cursor(rows[0]) if rows else None,
            end_cursor=self.keys.cursor(rows[-1]) if rows else None,
        )
        return rows, page_info


def page_of(queryset, ordering, page, *, counted=False, plan=None):
    """(the ordering's keys, the rows, PageInfo, the total or None) of the Page `page` of
    `queryset`; see the module docstring.

    With `counted`, the total is how many rows the whole list holds. Without a cursor the page's
    query reads it too (COUNT(*) OVER (), before LIMIT): the page is read from the list's first
    row, so it is empty only when the list is. With a cursor the page's WHERE narrows the rows
    counted, so the total is left to a query of its own (None). With a ColumnPlan (`plan`), the
    rows are its Rows rather than model instances (schema.columns).
    """
    request = _PageRequest(queryset, ordering, *astuple(page))
    if request.far is not None and not queryset.filter(pk=request.far).exists():
        raise _gone(request.far_argument)
    listed = request.rows(queryset)
    total_with_page = counted and request.anchor is None and request.far is None

    def finish(listed):
        ordered = listed.order_by(*request.order)
        return ordered.annotate(_list_total=Window(Count("*"))) if total_with_page else ordered

    if plan is not None:
        extra = ("_list_total",) if total_with_page else ()
        rows = plan.rows(listed, finish, tuple(request.order), request.rows_to_read, extra)
    else:
        rows = list(finish(listed)[: request.rows_to_read])
    group(rows, queryset.query.select_related)
    total = (rows[0]._list_total if rows else 0) if total_with_page else None
    return (request.keys, *request.page(rows), total)


def pages_of(queryset, ordering, partition, parents, page):
    """The Page `page` of each parent's list, the rows of `queryset` whose `partition` field is that
    parent: {parent: (keys, rows, PageInfo), or the ValidationFailed that parent's page is}.

    One query for all (two with both `after` and `before`): each parent's rows are numbered in
    the page's order (ROW_NUMBER() OVER (PARTITION BY ...)) and those past the page are left out.
    The same rules as page_of, parent by parent: a cursor whose row is not in a parent's list is
    that parent's BAD_USER_INPUT.
    """
    column = queryset.model._meta.get_field(partition).attname
    queryset = queryset.filter(**{f"{column}__in": parents})
    request = _PageRequest(queryset, ordering, *astuple(page))
    holding_far = set(queryset.filter(pk=request.far).values_list(column, flat=True)) if request.far else None
    rows = (
        request.rows(queryset)
        .annotate(_position=Window(RowNumber(), partition_by=F(column), order_by=request.order))
        .filter(_position__lte=request.rows_to_read)
        .order_by(column, *request.order)
    )
    by_parent = {}
    for row in rows:
        by_parent.setdefault(getattr(row, column), []).append(row)
    group([row for parent_rows in by_parent.values() for row in parent_rows], queryset.query.select_related)
    pages = {}
    for parent in parents:
        try:
            if holding_far is not None and parent not in holding_far:
                raise _gone(request.far_argument)
            pages[parent] = (request.keys, *request.page(by_parent.get(parent, [])))
        except ValidationFailed as refused:
            pages[parent] = refused
    return pages


def connection_type(node_type, noun):
    """The `<name>Connection` type (with its `<name>Edge`) for pages of `node_type`, whose
    GraphQL name is `name`; `noun` is what the descriptions call one of its objects."""
    name = node_type.__strawberry_definition__.name

    @lists_objects_of(node_type)
    @inherit_visibility
    @strawberry.type(name=f"{name}Edge", description=f"One {noun} in a page, with its cursor.")
    class Edge:
        node: node_type = strawberry.field(description=f"The {noun}.")
        cursor: str = computed_field(
            lambda edge: edge.keys.cursor(edge.node),
            description="Opaque position of this edge: pass it as after or before.",
        )
        keys: strawberry.Private[object]

    @lists_objects_of(node_type)
    @inherit_visibility
    @strawberry.type(name=f"{name}Connection", description=f"A page of {noun}s, with cursors and the total.")
    class Connection:
        edges: list[Edge] = strawberry.field(description=f"The {noun}s of this page, in order.")
        page_info: PageInfo = strawberry.field(description="Where this page sits in the whole list.")
        count: strawberry.Private[object]  # () -> how many the whole list holds

        @strawberry.field(description=f"How many {noun}s the whole list holds, across all pages.")
        def total_count(self) -> int:
            return self.count()

        @classmethod
        def of(cls, keys, rows, page_info, count):
            return cls(edges=[Edge(node=row, keys=keys) for row in rows], page_info=page_info, count=count)

        @classmethod
        def paginate(cls, queryset, ordering, page, info):
            """The Page `page` of `queryset` for the field of `info` (its totalCount read by the
            page's query where it can be, page_of)."""
            counted = selects(info, "totalCount")
            plan = column_plan(info, node_type, queryset.model)
            keys, rows, page_info, total = page_of(queryset, ordering, page, counted=counted, plan=plan)
            return cls.of(keys, rows, page_info, count=queryset.count if total is None else lambda: total)

        @classmethod
        def paginate_each(cls, queryset, ordering, partition, parents, page):
            """{parent: its Connection, or the ValidationFailed its page is} for the lists of many
            parents (pages_of); their totalCounts, when asked for, are counted together."""
            column = queryset.model._meta.get_field(partition).attname

            @cache
            def counts():
                listed = queryset.filter(**{f"{column}__in": parents}).order_by().values(column)
                return dict(listed.annotate(total=Count("pk")).values_list(column, "total"))

            def connection(parent, read):
                return cls.of(*read, count=lambda: counts().get(parent, 0))

            return {
                parent: read if isinstance(read, ValidationFailed) else connection(parent, read)
                for parent, read in pages_of(queryset, ordering, partition, parents, page).items()
            }

    # Named in Python as in the schema (reprs, tracebacks), though made here.
    Edge.__name__ = Edge.__qualname__ = f"{name}Edge"
    Connection.__name__ = Connection.__qualname__ = f"{name}Connection"
    return Connection
