"""The node limit (docs/security.md): how many nodes an operation may return, known before it runs.

For every connection field, the product of its `first`/`last` (the default page size when
neither is given) and that of every connection around it, summed, as GitHub counts it:
`tasks(first: 100) { edges { node { owner { tasks(first: 100) { ... } } } } }` may return
100 + 100 × 100 nodes. Connections under @skip or @include count all the same.

The count depends on the variables, so it is worked out in two steps. NodeCount walks a valid
document once (schema.limits keeps it with the document's validation) and keeps only what the
count needs: for each operation and fragment, a tree of the connection fields with their page
sizes as written, a literal or a variable. `count(operation, variables)` then puts each
request's values in; that costs a few microseconds.

A named fragment's connections are kept once, and their count is worked out once per request
however often it is spread: a connection's count inside a fragment is proportional to the
product of the connections around the spread, so each spread multiplies the same number.

The same walk gives the budget's measure (schema.cost): the requests an operation makes, the
sum over connection fields of the pages their parents make them fetch, as GitHub counts them:
a connection counts 1, and a connection inside it once for each of its nodes.
`users(first: 100) { ... tasks(first: 50) { ... } }` makes 1 + 100 requests and may return
100 + 100 × 50 nodes.
"""

from dataclasses import dataclass

from django.conf import settings
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    IntValueNode,
    OperationDefinitionNode,
    VariableNode,
    get_named_type,
    get_operation_ast,
)


@dataclass(frozen=True)
class _Connection:
    first: object  # an int, the name of a variable (a str), or None
    last: object
    inside: tuple  # the connections and fragment spreads in its selection


@dataclass(frozen=True)
class _Spread:
    fragment: str


def _is_connection(field_def):
    connection_type = get_named_type(field_def.type)
    return "first" in field_def.args and "last" in field_def.args and "edges" in getattr(connection_type, "fields", {})


def _page_size_as_written(field_node, name):
    for argument in field_node.arguments or ():
        if argument.name.value == name:
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                return argument.value.name.value
    return None


class NodeCount:
    """The node counts of a valid document's operations, as functions of their variables."""

    def __init__(self, schema, document):
        self.schema = schema
        self.document = document
        self.variables = set()  # those that give a page size, anywhere in the document
        self.fragments = {
            definition.name.value: self._terms(
                definition.selection_set, schema.get_type(definition.type_condition.name.value)
            )
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.operations = {
            id(definition): self._terms(definition.selection_set, schema.get_root_type(definition.operation))
            for definition in document.definitions
            if isinstance(definition, OperationDefinitionNode)
        }

    def _terms(self, selection_set, parent_type):
        """The connections and spreads of a selection, looking through plain fields and inline fragments."""
        terms = []
        for selection in selection_set.selections:
            if isinstance(selection, FragmentSpreadNode):
                terms.append(_Spread(selection.name.value))
            elif isinstance(selection, FieldNode):
                field_def = getattr(parent_type, "fields", {}).get(selection.name.value)
                if field_def is None or selection.selection_set is None:
                    continue  # a leaf, or introspection, whose shape the server fixes
                inside = self._terms(selection.selection_set, get_named_type(field_def.type))
                if _is_connection(field_def):
                    first, last = (_page_size_as_written(selection, name) for name in ("first", "last"))
                    self.variables.update(size for size in (first, last) if isinstance(size, str))
                    terms.append(_Connection(first, last, inside))
                else:
                    terms.extend(inside)
            else:  # an inline fragment
                condition = selection.type_condition
                fragment_type = self.schema.get_type(condition.name.value) if condition else parent_type
                terms.extend(self._terms(selection.selection_set, fragment_type))
        return tuple(terms)

    def operation(self, operation_name):
        """The operation a request with this operationName runs, as graphql-core picks it."""
        return get_operation_ast(self.document, operation_name)

    def variable_definitions(self, operation):
        """The operation's definitions of the variables page sizes are given by: only these need coercing."""
        return [
            definition
            for definition in operation.variable_definitions or ()
            if definition.variable.name.value in self.variables
        ]

    def count(self, operation, variables):
        """The operation's Count with these coerced variable values."""
        per_fragment = {}

        def page_size(size):
            if isinstance(size, str):
                size = variables.get(size)
            return size

        def total(terms):
            nodes = requests = 0
            for term in terms:
                if isinstance(term, _Spread):
                    if term.fragment not in per_fragment:
                        per_fragment[term.fragment] = total(self.fragments.get(term.fragment, ()))
                    fragment_nodes, fragment_requests = per_fragment[term.fragment]
                    nodes, requests = nodes + fragment_nodes, requests + fragment_requests
                else:
                    sizes = [size for size in map(page_size, (term.first, term.last)) if size is not None]
                    # A negative size is refused when the field runs; here it must not offset another.
                    size = max(0, *sizes) if sizes else settings.GRAPHQL_PAGE_SIZE
                    inside_nodes, inside_requests = total(term.inside)
                    nodes += size * (1 + inside_nodes)
                    requests += 1 + size * inside_requests
            return nodes, requests

        return Count(*total(self.operations[id(operation)]))


@dataclass(frozen=True)
class Count:
    nodes: int  # the most nodes the operation may return
    requests: int  # the pages its connections may fetch
