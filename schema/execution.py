"""Execution with a shortcut for plain fields, the bulk of every list a client reads.

graphql-core executes each field of each object the same way: it builds a resolve-info object,
looks for arguments, calls the resolver, checks for awaitables and completes the value, a few
microseconds a field, so several milliseconds for a page of 100 tasks. A plain field (no
resolver, no permission extension: Strawberry's "basic field") needs none of that:

- of a scalar or enum type, it is an attribute read and a serialization;
- of an object type, or a list of non-null objects, it is an attribute read and the
  sub-selection run on what was read.

PlainFieldShortcut does exactly that, and hands everything else to graphql-core unchanged: a
null, a value that does not serialize or is not of the field's type, a list holding a null,
@defer, @stream (any directive on the field), field middleware. Those cases are detected before
any sub-field runs, and failures inside a sub-selection are handled by graphql-core's own
handle_field_error, so data, errors, their paths and null propagation are graphql-core's own
(tests/test_execution.py compares both, synchronously and asynchronously, and incremental
delivery).

The shortcut overrides methods of graphql-core's executor that are not public API, pinned by
tests/test_library_internals.py; GRAPHQL_EXECUTION_SHORTCUT=0 turns it off (BudgetedExecution).

A selection made of plain fields only, down to its leaves (a page's edges, their nodes and
their owners, say), is planned once per execution (_SelectionPlan) and answered for each object
by one pass over the plan; any value the plan does not answer by itself sends that object down
the field-by-field path above, from its start.

On both paths every leaf value is counted against the response budget as it is completed
(BudgetedExecution.spend), so no request builds an answer much past GRAPHQL_MAX_RESPONSE_BYTES.

Each event of a subscription is an answer of its own, with a budget of its own. It is executed
on the socket's event loop, where the ORM may not run (its resolvers are the same synchronous
ones a query runs), so the whole event runs in the ORM's thread, in one hop with the executions of
the same event for the process's other subscribers (schema.orm_thread).
"""

from functools import partial
from json.encoder import encode_basestring_ascii
from operator import attrgetter

from django.conf import settings
from graphql import (
    ExecutionResult,
    GraphQLBoolean,
    GraphQLError,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    OperationType,
    is_leaf_type,
)
from graphql.pyutils import Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.errors import GRAPHQL_VALIDATION_FAILED
from schema.orm_thread import run_in_orm_thread

# What the response budget counts (GRAPHQL_MAX_RESPONSE_BYTES), close to the answer's JSON: a
# text leaf its JSON text, escapes included; any other leaf 8; each leaf 16 more for its key
# and punctuation; each error 256. Objects and lists around the leaves are not counted; the node
# limit (schema.node_count) bounds how many there are.
LEAF_BYTES = 16
OTHER_LEAF_BYTES = 8
ERROR_BYTES = 256


def _leaf_bytes(value):
    return LEAF_BYTES + (len(encode_basestring_ascii(value)) if type(value) is str else OTHER_LEAF_BYTES)


class _Irregular(Exception):
    """A value a selection plan does not answer by itself: graphql-core's path answers it."""


def _typename(object_type):
    name = object_type.name
    return lambda source: name


class _SelectionPlan:
    """A selection of plain fields only, on one object type, answered without graphql-core.

    `entries` are (response name, read, serialize, unchanged, object type, sub-plan, listed) in
    the selection's order: a leaf has no object type or sub-plan, an object no serialize; a
    leaf's value of the type `unchanged` is what serialize would return. `answer` raises for any
    value graphql-core would not complete as a plain value (a null, a value that does not
    serialize, an object that is_type_of refuses, a list holding a null), and the object is
    then executed as before.
    """

    __slots__ = ("entries",)

    def __init__(self, entries):
        self.entries = entries

    def answer(self, source):
        """(the selection's values in document order, their response bytes)."""
        values = {}
        response_bytes = 0
        for response_name, read, serialize, unchanged, object_type, plan, listed in self.entries:
            value = read(source)
            if value is None:
                raise _Irregular
            if plan is None:
                if type(value) is not unchanged:
                    value = serialize(value)
                    if value is None or value is Undefined:
                        raise _Irregular
                response_bytes += _leaf_bytes(value)
            elif listed:
                if not isinstance(value, (list, tuple)):
                    raise _Irregular
                items = []
                for item in value:
                    item_value, item_bytes = plan.answer_object(object_type, item)
                    items.append(item_value)
                    response_bytes += item_bytes
                value = items
            else:
                value, item_bytes = plan.answer_object(object_type, value)
                response_bytes += item_bytes
            values[response_name] = value
        return values, response_bytes

    def answer_object(self, object_type, value):
        if value is None or (object_type.is_type_of is not None and object_type.is_type_of(value, None) is not True):
            raise _Irregular
        return self.answer(value)


class ResponseTooLarge(BaseException):
    """Ends an execution whose answer passed its budget.

    A BaseException, so that graphql-core, which turns every Exception inside a field into that
    field's error and goes on with the next, lets it through to execute_operation.
    """


def _nullable(graphql_type):
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def _reader(field_def):
    """How to read a basic Strawberry field from its object, or None for any other field."""
    strawberry_field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not getattr(strawberry_field, "is_basic_field", False) or field_def.args:
        return None
    if type(strawberry_field) is StrawberryField and strawberry_field.default_resolver is getattr:
        return attrgetter(strawberry_field.python_name)
    # A field that computes its value without a resolver (schema.relay.computed_field).
    return partial(strawberry_field.get_result, info=None, args=(), kwargs={})


# The type of the values each built-in scalar's output coercion returns as they are: a selection
# plan does not call it for them (_SelectionPlan.answer).
_PASSED_UNCHANGED = {id(GraphQLString): str, id(GraphQLID): str, id(GraphQLBoolean): bool}


def _plain_leaf(field_def):
    """(read, serialize, the type serialize returns unchanged or None) for a basic field of a
    scalar or enum type, else None."""
    leaf_type = _nullable(field_def.type)
    read = _reader(field_def) if is_leaf_type(leaf_type) else None
    return None if read is None else (read, leaf_type.coerce_output_value, _PASSED_UNCHANGED.get(id(leaf_type)))


def _plain_objects(field_def):
    """(read, object type, listed) for a basic field of an object type or a list of non-null ones."""
    field_type = _nullable(field_def.type)
    listed = isinstance(field_type, GraphQLList)
    if listed:
        if not isinstance(field_type.of_type, GraphQLNonNull):
            return None
        field_type = field_type.of_type.of_type
    read = _reader(field_def) if isinstance(field_type, GraphQLObjectType) else None
    return None if read is None else (read, field_type, listed)


def _directed(field_details_list):
    """Whether a directive stands on the field itself (@stream), which changes how graphql-core
    completes it."""
    for details in field_details_list:
        if details.node.directives:
            return True
    return False


# {id(field_def): (field_def, its _plain_leaf, its _plain_objects)}. A field's facts depend on
# its schema alone, so they are worked out once per field rather than once per execution: for a
# small selection (`me`), working them out again cost more than the shortcut saved. One entry
# per field of each schema the process builds (the server builds one); holding the field keeps
# its id from being reused.
_FIELD_FACTS = {}


def _facts(field_def):
    known = _FIELD_FACTS.get(id(field_def))
    if known is None:
        known = _FIELD_FACTS[id(field_def)] = (field_def, _plain_leaf(field_def), _plain_objects(field_def))
    return known


def _serialized(read, serialize, source):
    """The field's output value, or None to leave the field (and any error) to graphql-core."""
    try:
        value = read(source)
        if value is None:
            return None
        serialized = serialize(value)
    except Exception:  # noqa: BLE001 - graphql-core reports it properly when it runs the field
        return None
    return None if serialized is Undefined else serialized


def _objects(read, source, listed):
    """The objects to complete (a tuple of one when not `listed`), or None to leave it to graphql-core."""
    try:
        value = read(source)
    except Exception:  # noqa: BLE001 - graphql-core reports it properly when it runs the field
        return None
    if value is None:
        return None
    if not listed:
        return (value,)
    return value if isinstance(value, (list, tuple)) and not any(item is None for item in value) else None


class BudgetedExecution(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's execution, with the response budget, suggestions hidden outside DEBUG, and
    each subscription event run in the ORM's thread.

    Every leaf value and every field error is counted against GRAPHQL_MAX_RESPONSE_BYTES as it is
    completed; past it the execution stops and the whole answer is one GRAPHQL_VALIDATION_FAILED
    error, so no request builds a larger answer in memory. With GRAPHQL_EXECUTION_SHORTCUT off,
    this is the executor (graphql-core runs every field itself).
    """

    @classmethod
    def build(cls, *args, **kwargs):
        # Variable values are checked as the executor is built, not during validation
        # (schema.limits): outside DEBUG their errors must not suggest enum values either.
        return super().build(*args, **{**kwargs, "hide_suggestions": not settings.DEBUG})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.response_bytes_left = settings.GRAPHQL_MAX_RESPONSE_BYTES

    def spend(self, response_bytes):
        self.response_bytes_left -= response_bytes
        if self.response_bytes_left < 0:
            raise ResponseTooLarge

    def build_per_event_executor(self, payload):
        # graphql-core copies the subscription's executor for each event, sharing its caches of the
        # selections collected, which are keyed by objects each event makes anew: shared, they
        # would keep every event's alive as long as the subscription lasts.
        executor = super().build_per_event_executor(payload)
        executor._relevant_sub_fields = {}
        return executor

    def execute_operation(self, serially=None):
        # Of a subscription, graphql-core executes only events (build_per_event_executor).
        if self.operation.operation is OperationType.SUBSCRIPTION:
            return self.execute_event(serially)
        return self.execute_in_budget(serially)

    async def execute_event(self, serially):
        result = await run_in_orm_thread(partial(self.execute_in_budget, serially))
        return await result if self.is_awaitable(result) else result

    def execute_in_budget(self, serially):
        try:
            result = super().execute_operation(serially)
        except ResponseTooLarge:
            return self.too_large()
        if not self.is_awaitable(result):
            return result

        async def awaited():
            try:
                return await result
            except ResponseTooLarge:
                return self.too_large()

        return awaited()

    def too_large(self):
        budget = settings.GRAPHQL_MAX_RESPONSE_BYTES
        message = f"The answer would be larger than {budget} bytes; ask for fewer items or fields."
        error = GraphQLError(message, extensions={"code": GRAPHQL_VALIDATION_FAILED, "maxResponseBytes": budget})
        return ExecutionResult(data=None, errors=[error])

    def complete_leaf_value(self, return_type, result):
        value = super().complete_leaf_value(return_type, result)
        self.spend(_leaf_bytes(value))
        return value

    def handle_field_error(self, raw_error, return_type, field_details_list, path):
        super().handle_field_error(raw_error, return_type, field_details_list, path)
        # Reached only when the error is kept at this field rather than passed to its parent.
        self.spend(ERROR_BYTES)


class PlainFieldShortcut(BudgetedExecution):
    """BudgetedExecution with the shortcut for plain fields (the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Field middleware (schema extensions with a `resolve` hook) must see every field.
        self.shortcut_allowed = not (self.middleware_manager and self.middleware_manager.middlewares)
        # graphql-core collects the fields of a selection once and reuses that object for every
        # item of a list, so what is plain among them is worked out once per execution.
        self.plain_leaves = {}
        self.selection_plans = {}

    def build_per_event_executor(self, payload):
        executor = super().build_per_event_executor(payload)
        executor.plain_leaves = {}
        executor.selection_plans = {}
        return executor

    def selection_plan(self, parent_type, grouped_field_set):
        """The _SelectionPlan of a selection, or None when a field of it (or of a sub-selection)
        is not plain; worked out once per selection, as plain_leaves_of."""
        known = self.selection_plans.get(id(grouped_field_set))
        if known is None or known[0] is not grouped_field_set:
            known = (grouped_field_set, self.plan_selection(parent_type, grouped_field_set))
            self.selection_plans[id(grouped_field_set)] = known
        return known[1]

    def plan_selection(self, parent_type, grouped_field_set):
        fields = parent_type.fields
        entries = []
        for response_name, field_details_list in grouped_field_set.items():
            field_name = field_details_list[0].node.name.value
            if field_name == "__typename":
                entries.append((response_name, _typename(parent_type), str, str, None, None, False))
                continue
            field_def = fields.get(field_name)
            if field_def is None or _directed(field_details_list):
                return None
            _, leaf, plain = _facts(field_def)
            if leaf is not None:
                entries.append((response_name, *leaf, None, None, False))
                continue
            if plain is None:
                return None
            read, object_type, listed = plain
            subfields, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
            plan = None if new_defer_usages else self.selection_plan(object_type, subfields)
            if plan is None:
                return None
            entries.append((response_name, read, None, None, object_type, plan, listed))
        return _SelectionPlan(entries)

    def answer_by_plan(self, plan, source):
        """The values `plan` gives `source`, counted against the budget; None when graphql-core's
        path must answer it (a value the plan does not answer by itself, or one that failed)."""
        try:
            values, response_bytes = plan.answer(source)
        except Exception:  # noqa: BLE001 - graphql-core's path reports it properly
            return None
        self.spend(response_bytes)
        return values

    def plain_leaves_of(self, parent_type, grouped_field_set):
        """[(response name, read, serialize, unchanged)] of the plain scalar fields in a selection."""
        known = self.plain_leaves.get(id(grouped_field_set))
        if known is None or known[0] is not grouped_field_set:
            fields = parent_type.fields
            leaves = []
            for response_name, field_details_list in grouped_field_set.items():
                field_def = fields.get(field_details_list[0].node.name.value)
                shortcut = _facts(field_def)[1] if field_def is not None else None
                if shortcut is not None:
                    leaves.append((response_name, *shortcut))
            known = (grouped_field_set, leaves)
            self.plain_leaves[id(grouped_field_set)] = known
        return known[1]

    def execute_fields(self, parent_type, source_value, path, grouped_field_set, position_context):
        plan = self.selection_plan(parent_type, grouped_field_set) if self.shortcut_allowed else None
        if plan is not None and position_context is None:
            values = self.answer_by_plan(plan, source_value)
            if values is not None:
                return values
        return self.execute_field_by_field(parent_type, source_value, path, grouped_field_set, position_context)

    def execute_field_by_field(self, parent_type, source_value, path, grouped_field_set, position_context):
        """The plain leaves read here, every other field executed by graphql-core."""
        leaves = self.plain_leaves_of(parent_type, grouped_field_set) if self.shortcut_allowed else ()
        values = {}
        response_bytes = 0
        for response_name, read, serialize, _ in leaves:
            value = _serialized(read, serialize, source_value)
            if value is not None:
                values[response_name] = value
                response_bytes += _leaf_bytes(value)
        self.spend(response_bytes)
        if not values:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)
        if len(values) == len(grouped_field_set):
            return values
        rest = {name: details for name, details in grouped_field_set.items() if name not in values}
        others = super().execute_fields(parent_type, source_value, path, rest, position_context)

        def in_document_order(other_values):
            return {
                name: values[name] if name in values else other_values[name]
                for name in grouped_field_set
                if name in values or name in other_values
            }

        if self.is_awaitable(others):

            async def awaited():
                return in_document_order(await others)

            return awaited()
        return in_document_order(others)

    def execute_field(self, parent_type, source, field_details_list, path, position_context):
        field_def = parent_type.fields.get(field_details_list[0].node.name.value)
        plain = None
        if field_def is not None and self.shortcut_allowed and position_context is None:
            plain = None if _directed(field_details_list) else _facts(field_def)[2]
        if plain is not None:
            read, object_type, listed = plain
            objects = _objects(read, source, listed)
            subfields = self.subfields_for(object_type, field_details_list, objects)
            if subfields is not None:
                return self.complete_plain_objects(
                    field_def, field_details_list, path, object_type, objects if listed else objects[0], subfields
                )
        return super().execute_field(parent_type, source, field_details_list, path, position_context)

    def subfields_for(self, object_type, field_details_list, objects):
        """The sub-selection to run on `objects`, or None when graphql-core must complete them."""
        if objects is None:
            return None
        if object_type.is_type_of is not None:
            try:
                if not all(object_type.is_type_of(item, None) is True for item in objects):
                    return None
            except Exception:  # noqa: BLE001 - graphql-core reports it properly
                return None
        grouped_field_set, new_defer_usages, _ = self.collect_subfields(object_type, field_details_list)
        return None if new_defer_usages else grouped_field_set

    def complete_plain_objects(self, field_def, field_details_list, path, object_type, value, subfields):
        """Run the sub-selection on `value` (a list or one object); failures as graphql-core handles them."""
        try:
            if isinstance(value, (list, tuple)):
                completed = self.complete_plain_list(object_type, value, path, subfields)
            else:
                completed = self.execute_fields(object_type, value, path, subfields, None)
        except Exception as raw_error:  # noqa: BLE001 - graphql-core's own handling
            self.handle_field_error(raw_error, field_def.type, field_details_list, path)
            return None
        if not self.is_awaitable(completed):
            return completed

        async def await_completed():
            try:
                return await completed
            except Exception as raw_error:  # noqa: BLE001 - graphql-core's own handling
                self.handle_field_error(raw_error, field_def.type, field_details_list, path)
                return None

        return await_completed()

    def complete_plain_list(self, object_type, items, path, subfields):
        # The items share one selection, so one plan (execute_fields, without the lookup per item).
        plan = self.selection_plan(object_type, subfields) if self.shortcut_allowed else None
        completed = []
        try:
            for index, item in enumerate(items):
                values = None if plan is None else self.answer_by_plan(plan, item)
                if values is None:
                    values = self.execute_field_by_field(object_type, item, Path(path, index, None), subfields, None)
                completed.append(values)
        except Exception:
            # As graphql-core does: what earlier items started still runs to its end.
            self.settle_in_background([item for item in completed if self.is_awaitable(item)])
            raise
        if not any(self.is_awaitable(item) for item in completed):
            return completed

        async def awaited():
            values = []
            for position, item in enumerate(completed):
                try:
                    values.append(await item if self.is_awaitable(item) else item)
                except Exception:
                    self.settle_in_background([rest for rest in completed[position + 1 :] if self.is_awaitable(rest)])
                    raise
            return values

        return awaited()
