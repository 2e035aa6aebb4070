"""Operations in words the schema fixes, for metrics labels and span names.

A client's `operationName` is free text: as a metrics label it would let any client add series
without bound and put its own words in every scrape. An operation is named here by its root
field instead (`tokenAuth`, `tasks`; `multiple` when it selects several), which only the schema
can add to, and its outcome by the contract's error code. A field the schema does not have
(the document is invalid) is `unknown`; a document that did not parse or names no operation
of its own is `none`.
"""

from collections.abc import Iterator
from functools import partial, wraps
from time import perf_counter

from graphql import FieldNode, FragmentDefinitionNode, FragmentSpreadNode, InlineFragmentNode
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension

from project import metrics
from schema.errors import CODES, INTERNAL_SERVER_ERROR, REQUEST_REFUSALS

NONE = "none"
UNKNOWN = "unknown"
MULTIPLE = "multiple"
OK = "OK"
OTHER = "OTHER"
# Introspection's root fields, which no type lists among its fields.
META_FIELDS = frozenset({"__typename", "__schema", "__type"})


def described(execution_context):
    """(operation type, root field) of the operation a request runs."""
    document = execution_context.graphql_document
    operation = get_operation_ast(document, execution_context.operation_name) if document else None
    if operation is None:
        return NONE, NONE
    root_type = execution_context.schema._schema.get_root_type(operation.operation)
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    names = _root_fields(operation.selection_set, fragments, set())
    known = META_FIELDS.union(root_type.fields) if root_type is not None else frozenset()
    if not names or not names <= known:
        return operation.operation.value, UNKNOWN
    return operation.operation.value, next(iter(names)) if len(names) == 1 else MULTIPLE


def _root_fields(selection_set, fragments, seen_fragments):
    names = set()
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _root_fields(selection.selection_set, fragments, seen_fragments)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen_fragments:
            seen_fragments.add(selection.name.value)
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                names |= _root_fields(fragment.selection_set, fragments, seen_fragments)
    return names


def with_outcome(execution_context, observe):
    """The body of an extension's on_operation hook: the operation runs, then `observe` gets its
    outcome. A hook of another extension that raised (the budget's store unreachable, say) makes
    the answer an INTERNAL_SERVER_ERROR (schema.errors.shape_left_over_errors), and its outcome."""
    try:
        yield
    except REQUEST_REFUSALS:
        raise  # answered with a 400 before any operation: count_unmeasured_requests counts it
    except Exception:
        observe(INTERNAL_SERVER_ERROR)
        raise
    observe(outcome(execution_context.result))


def outcome(result):
    """`OK`, or the contract code of the result's first error (`OTHER` for any other code)."""
    if result is None or not result.errors:
        return OK
    code = (result.errors[0].extensions or {}).get("code")
    return code if code in CODES else OTHER


class OperationMetrics(SchemaExtension):
    """Counts and times each operation. Listed before ContractErrors, so it sees the codes that
    extension gives the errors. Subscriptions run as long as they stay open: they are counted by
    the subscription gauges (project.metrics), not here."""

    def on_operation(self) -> Iterator[None]:
        if not metrics.enabled():
            yield
            return
        started = perf_counter()
        yield from with_outcome(self.execution_context, partial(self._observe, started))

    def _observe(self, started, result):
        context = self.execution_context
        operation_type, operation = described(context)
        if operation_type != "subscription":
            metrics.observe_request(operation_type, operation, result, perf_counter() - started)
        request = getattr(context.context, "request", None)
        if request is not None:
            request.operation_measured = True


def count_unmeasured_requests(view):
    """Counts what the view answers without running an operation (a body too large, not JSON, a
    mutation over GET, GraphiQL's page) as operation `none` with outcome `HTTP_<status>`."""

    @wraps(view)
    def measured_view(request, *args, **kwargs):
        started = perf_counter()
        response = view(request, *args, **kwargs)
        if not getattr(request, "operation_measured", False):
            metrics.observe_request(NONE, NONE, f"HTTP_{response.status_code}", perf_counter() - started)
        return response

    return measured_view
