"""What an operation costs from its viewer's budget (docs/security.md), charged before it runs.

An operation costs max(1, requests / 100 rounded half up) points, where requests are those of
schema.node_count's Count (the pages its connections may fetch), as GitHub prices its API: a
page of 100 users with 50 tasks each is 1 + 100 requests, 1 point. The count comes from the
document and the request's variables, so it is known before anything runs; DocumentLimits
charges it once the document has passed every other check, so an invalid document, one over the
node limit, or one refused by the operator's codenames spends nothing.

Over budget, the operation gets RATE_LIMITED with retryAfter and nothing runs. An operation
that asks for `rateLimit(dryRun: true)` costs nothing: only its rateLimit fields run, reporting
what it would have cost.
"""

import dataclasses
from dataclasses import dataclass

from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    SelectionSetNode,
    VariableNode,
    get_operation_ast,
    get_variable_values,
)
from graphql import ExecutionResult as GraphQLExecutionResult

from accounts import audit, budget
from accounts.budget import Budget, BudgetExceeded

RATE_LIMIT_FIELD = "rateLimit"


@dataclass(frozen=True)
class RateLimitReport:
    """What the rateLimit field and the X-RateLimit-* headers tell about one request."""

    budget: Budget
    cost: int = 0
    node_count: int = 0


def points(count):
    """The operation's cost: its requests divided by 100, rounded half up, and at least 1."""
    return max(1, (count.requests + 50) // 100)


def _root_fields(selection_set, fragments, visited=frozenset()):
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None and fragment.name.value not in visited:
                yield from _root_fields(fragment.selection_set, fragments, visited | {fragment.name.value})
        else:
            yield from _root_fields(selection.selection_set, fragments, visited)


def _asks_for_a_dry_run(field, execution_context, operation):
    argument = next((argument for argument in field.arguments or () if argument.name.value == "dryRun"), None)
    if argument is None:
        return False
    if isinstance(argument.value, BooleanValueNode):
        return argument.value.value
    if isinstance(argument.value, VariableNode):
        coerced = get_variable_values(
            execution_context.schema._schema, operation.variable_definitions or (), execution_context.variables or {}
        )
        # Variables that do not fit their types are reported by execution, where nothing runs.
        return not isinstance(coerced, list) and coerced.coerced.get(argument.value.name.value) is True
    return False


def _dry_run_fields(execution_context, document, operation):
    """The operation's rateLimit fields when one of them asks for a dry run, else ()."""
    if operation.operation.value != "query":
        return ()
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    fields = [
        field for field in _root_fields(operation.selection_set, fragments) if field.name.value == RATE_LIMIT_FIELD
    ]
    if any(_asks_for_a_dry_run(field, execution_context, operation) for field in fields):
        return fields
    return ()


def _only(document, operation, fields):
    """The document with the operation reduced to `fields`."""
    reduced = dataclasses.replace(operation, selection_set=SelectionSetNode(selections=tuple(fields)))
    definitions = tuple(reduced if definition is operation else definition for definition in document.definitions)
    return dataclasses.replace(document, definitions=definitions)


def charge(execution_context, count):
    """Charge the operation to its viewer's budget, or refuse it; the request's Context keeps the report."""
    context = execution_context.context
    document = execution_context.graphql_document
    operation = get_operation_ast(document, execution_context.operation_name)
    cost = points(count)
    dry_run = _dry_run_fields(execution_context, document, operation)
    holder = context.budget_holder()
    try:
        spent = budget.current(holder) if dry_run else budget.spend(holder, cost)
    except BudgetExceeded as exceeded:
        context.rate_limit = RateLimitReport(exceeded.budget, cost, count.nodes)
        audit.record(audit.EventType.RATE_LIMITED, context.meta, user=context.viewer.user, success=False)
        error = GraphQLError(exceeded.message, original_error=exceeded)
        execution_context.result = GraphQLExecutionResult(data=None, errors=[error])
        return
    context.rate_limit = RateLimitReport(spent, cost, count.nodes)
    if dry_run:
        execution_context.graphql_document = _only(document, operation, dry_run)
