"""Pages read as rows of the columns a document selects, rather than as model instances.

Building a model instance for each row of a page (and one for each row's owner) costs more
than everything else a list does, and most documents read a few plain columns of each: a
task's title and dates, its owner's username. When every field a connection's nodes select
(through fragments too) is such a column, the page is read with `values_list` of just those
columns and each row becomes a Row: an object holding those columns as attributes, read by
schema.execution as it reads an instance.

A field is a column when it is plain (schema.execution: no resolver, no arguments, no rule of
its own) and names a concrete field of the model, or is the global `id` (the primary key), or
`__typename`; a plain field of a non-null foreign key is a column too when its own selection is
all columns of the related model. Anything else among the nodes' fields (a resolver, a rule such
as `email`'s, a nested connection) and the page is read as instances, as before. @skip and
@include are not evaluated: a skipped field is planned as if it were read.

A connection field's plan is worked out once per (operation, path in it) and kept as long as the
parsed operation is (schema.limits caches parsed documents), so it is gone with its document.

A plan also keeps the SQL of its pages, compiled once per database connection and shape of
page: building the page's queryset and compiling it cost about 0.4 ms a request, more than
running it (docs/performance.md). The shape is what decides the SQL beside the values of its
parameters: the list's WHERE clause as the ORM compiles it (with placeholders; a cursor or a
search makes another one), its joins, the page's ordering, size and annotations. Each request
still has the list's WHERE compiled (its parameters are the request's own), then runs the kept
SQL with those parameters. The SQL is Django's, compiled by its compiler; that the page's
parameters are exactly its WHERE's is checked when it is compiled, and a list with more than
filters (annotations, DISTINCT, a slice, a reversed order) is compiled each time.
"""

import weakref

from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FullResultSet
from django.db import connections
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.lazy_type import LazyType
from strawberry.types.nodes import SelectedField

_row_classes = {}


class Row:
    """A row of a page read by a column plan: its columns (and `pk`) as attributes.

    A page is read as Rows only for object types whose is_type_of accepts them
    (`isinstance(obj, (Task, row_class(Task), cls))`); other types read instances.
    """

    model = None

    def __repr__(self):
        return f"<{type(self).__name__} pk={self.pk}>"


def row_class(model):
    """The Row class of `model`'s rows; its object type's is_type_of accepts it."""
    if model not in _row_classes:
        _row_classes[model] = type(f"{model.__name__}Row", (Row,), {"model": model})
    return _row_classes[model]


def _flattened(selections):
    """The fields among `selections`, those of fragments included."""
    pending = list(selections)
    while pending:
        selection = pending.pop(0)
        if isinstance(selection, SelectedField):
            yield selection
        else:
            pending[:0] = selection.selections


def _object_definition(field_type):
    if isinstance(field_type, LazyType):
        field_type = field_type.resolve_type()
    return get_object_definition(field_type)


def _is_plain(field):
    return (
        type(field) is StrawberryField
        and field.is_basic_field
        and not field.arguments
        and not field.extensions
        and field.default_resolver is getattr
    )


def _accepts_rows(definition, model):
    """Whether graphql-core takes a Row of `model` as an object of this type (its is_type_of)."""
    if definition.is_type_of is None:
        # Without interfaces graphql-core asks nothing; with them Strawberry asks isinstance.
        return not definition.interfaces
    return definition.is_type_of(object.__new__(row_class(model)), None) is True


class _ModelColumns:
    """The columns of one model a selection reads, and the Rows of a related model inside it."""

    def __init__(self, model):
        self.model = model
        self.attributes = ["pk"]  # the attribute names of the row, in values_list order
        self.related = {}  # attribute name -> _ModelColumns

    def plan(self, info, definition, selections):
        """Add the columns `selections` (on the object type `definition`) read; False when one is not a column."""
        if not _accepts_rows(definition, self.model):
            return False
        name_converter = info.schema.config.name_converter
        fields = {name_converter.from_field(field): field for field in definition.fields}
        for selected in _flattened(selections):
            if selected.name == "__typename":
                continue
            field = fields.get(selected.name)
            if field is None:
                return False
            if getattr(field, "reads", None) == ("pk",):
                continue  # a field computed from the primary key only (the global id): always read
            if not _is_plain(field):
                return False
            try:
                model_field = self.model._meta.get_field(field.python_name)
            except FieldDoesNotExist:  # an attribute that is no column
                return False
            if model_field.many_to_one and not model_field.null:
                related = self.related.get(field.python_name) or _ModelColumns(model_field.related_model)
                if not related.plan(info, _object_definition(field.type), selected.selections):
                    return False
                self.related[field.python_name] = related
            elif model_field.concrete and not model_field.is_relation:
                if model_field.attname not in self.attributes:
                    self.attributes.append(model_field.attname)
            else:
                return False
        return True

    def lookups(self, prefix=""):
        """The values_list lookups of every column, depth first."""
        yield from (prefix + attribute for attribute in self.attributes)
        for name, related in self.related.items():
            yield from related.lookups(f"{prefix}{name}__")

    def builder(self):
        """`build(values, position)` -> (the Row of the values from `position` on, the next position)."""
        cls = row_class(self.model)
        attributes = tuple(self.attributes)
        width = len(attributes)
        related = [(name, columns.builder()) for name, columns in self.related.items()]

        def build(values, position):
            row = object.__new__(cls)
            fields = row.__dict__
            fields.update(zip(attributes, values[position : position + width], strict=True))
            position += width
            for name, build_related in related:
                fields[name], position = build_related(values, position)
            return row, position

        return build


# The page shapes a plan keeps compiled, per connection; a document whose pages take more shapes
# (one per page size, cursor and filter it is asked with) has the others compiled each time.
MAX_PAGE_SHAPES = 32


class ColumnPlan:
    """How to read a page as Rows: the values_list lookups, how each tuple becomes a Row, and
    the SQL of the pages read so far."""

    def __init__(self, columns):
        self.lookups = list(columns.lookups())
        self.build = columns.builder()
        self._statements = weakref.WeakKeyDictionary()  # {connection: {shape: _PageStatement}}

    def rows(self, listed, finish, ordering, limit, extra=()):
        """The Rows of the first `limit` of `finish(listed)`, each with the `extra` annotations too
        (as attributes).

        `listed` is the list, filtered only; `finish` orders it (by `ordering`) and adds the
        `extra` annotations, the same way for the same `ordering` and `extra`.
        """
        build = self.build
        rows = []
        width = len(self.lookups)
        for values in self._values(listed, finish, ordering, limit, extra):
            row, _ = build(values, 0)
            row.__dict__.update(zip(extra, values[width:], strict=True))
            rows.append(row)
        return rows

    def _values(self, listed, finish, ordering, limit, extra):
        query = listed.query
        if not _only_filtered(query):
            return finish(listed).values_list(*self.lookups, *extra)[:limit]
        connection = connections[listed.db]
        try:
            where, parameters = query.get_compiler(connection=connection).compile(query.where)
        except FullResultSet:  # no condition
            where, parameters = "", []
        except EmptyResultSet:  # a condition nothing meets, which the queryset answers without a query
            return finish(listed).values_list(*self.lookups, *extra)[:limit]
        shape = (query.model, where, _joins(query), ordering, limit, extra)
        statements = self._statements.setdefault(connection, {})
        statement = statements.get(shape)
        if statement is None:
            statement = _PageStatement.compile(finish(listed).values_list(*self.lookups, *extra)[:limit], parameters)
            if len(statements) < MAX_PAGE_SHAPES:
                statements[shape] = statement
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, parameters)
            rows = cursor.fetchall()
        return statement.compiler.apply_converters(rows, statement.converters) if statement.converters else rows


def _only_filtered(query):
    """Whether the query is a model's rows, filtered and nothing else."""
    return not (
        query.annotations
        or query.extra
        or query.extra_tables
        or query.distinct
        or query.combinator
        or query.group_by is not None
        or query.values_select
        or query.low_mark
        or query.high_mark is not None
        or query.select_for_update
        or not query.standard_ordering  # reversed: the page's ordering would be too
    )


def _joins(query):
    return tuple((alias, getattr(join, "join_type", None)) for alias, join in query.alias_map.items())


class _PageStatement:
    """A page's SQL as Django compiled it, and the converters of its columns."""

    def __init__(self, sql, compiler):
        self.sql = sql
        self.compiler = compiler
        self.converters = compiler.get_converters([expression for expression, _, _ in compiler.select])

    @classmethod
    def compile(cls, queryset, where_parameters):
        """The statement of `queryset` (a values_list), once it is checked to take its list's WHERE
        parameters, `where_parameters`, as its only ones."""
        query = queryset.query
        compiler = query.get_compiler(using=queryset.db)
        sql, parameters = compiler.as_sql()
        # The columns, named by values_list's names for them, in its order.
        selected = [alias for _, _, alias in compiler.select]
        if list(parameters) != list(where_parameters) or selected != list(queryset._fields):
            raise RuntimeError(
                f"Django compiled {sql!r} with {list(parameters)!r} for {list(queryset._fields)!r}, not with the "
                f"WHERE's parameters {list(where_parameters)!r} alone or not in that order, unlike what a column "
                "plan expects: see tests/test_library_internals.py."
            )
        return cls(sql, compiler)


def _connection_plan(info, node_type, model):
    node_definition = get_object_definition(node_type)
    columns = _ModelColumns(model)
    for connection in info.selected_fields:
        for selected in _flattened(connection.selections):
            if selected.name != "edges":
                continue  # totalCount, pageInfo, __typename read no node
            for edge_field in _flattened(selected.selections):
                if edge_field.name == "node" and not columns.plan(info, node_definition, edge_field.selections):
                    return None
    return ColumnPlan(columns)


# id(operation) -> (a weak reference to the operation, {path of the field: ColumnPlan or None})
_plans = {}


def column_plan(info, node_type, model):
    """The ColumnPlan of the connection field of `info` (listing `node_type` objects of `model`),
    or None when its nodes select something other than columns."""
    operation = info.operation
    known = _plans.get(id(operation))
    if known is None or known[0]() is not operation:
        key = id(operation)
        known = _plans[key] = (weakref.ref(operation, lambda _: _plans.pop(key, None)), {})
    path = tuple(key for key in info.path.as_list() if isinstance(key, str))
    plans = known[1]
    if path not in plans:
        plans[path] = _connection_plan(info, node_type, model)
    return plans[path]
