"""Document limits (docs/security.md), checked before any resolver runs.

Every limit is read from settings on each request, so an operator's environment and a
test's override_settings both take effect. One extension owns the whole validation step:
the cap on field selections (first, since it spares the expensive rules), then
graphql-core's rules, Strawberry's own two, the depth and alias limits and, unless
enabled, the ban on introspection; all of them with "did you mean" suggestions hidden
outside DEBUG. A valid document then meets the node limit (schema.node_count), whose
shape is cached with the document's validation and whose count takes each request's variables.
Parsing and validation results are cached, like Strawberry's ParserCache and
ValidationCache, which this replaces; a trusted document (schema.manifests) is parsed once at
start and its validation kept with it. An operation that passes every limit is charged to its
viewer's budget (schema.budget.charge) as execution starts, after the operator's codenames
(schema.codenames) had their say, so no refused operation spends anything.

The depth and alias rules are written here rather than taken from Strawberry
(QueryDepthLimiter, MaxAliasesLimiter): those walk every fragment spread again each time it
is spread, so a chain of 24 fragments each spreading the next twice (about 200 tokens)
kept them busy for 11 and 35 seconds. These measure each fragment once.
"""

from collections.abc import Iterator
from functools import lru_cache

from django.conf import settings
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    NoSchemaIntrospectionCustomRule,
    ValidationRule,
    get_operation_ast,
    get_variable_values,
    parse,
    validate,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types.graphql import OperationType

from schema.budget.charge import charge
from schema.errors import GRAPHQL_VALIDATION_FAILED
from schema.manifests import trusted_documents
from schema.node_count import NodeCount


class _Measure:
    """Depth and alias count of selections; each named fragment is measured once.

    Depth is that of the deepest field, root fields being at depth 0, as Strawberry's
    QueryDepthLimiter, graphene's depth_limit_validator and graphql-depth-limit count it
    (`{ me { tasks { edges { node { id } } } } }` has depth 4). Introspection fields
    (`__schema`, `__type`), whose shape the server fixes, add nothing. An alias counts once
    for every time its field would run, so a fragment spread twice counts its aliases twice.
    """

    def __init__(self, context):
        self.context = context
        self.fragments = {}

    def selections(self, selection_set, visiting=frozenset()):
        depth = aliases = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                child_depth, child_aliases = self.selections(selection.selection_set, visiting)
                aliases += child_aliases + (1 if selection.alias else 0)
                if selection.selection_set and not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + child_depth)
            elif isinstance(selection, InlineFragmentNode):
                child_depth, child_aliases = self.selections(selection.selection_set, visiting)
                depth, aliases = max(depth, child_depth), aliases + child_aliases
            elif isinstance(selection, FragmentSpreadNode):
                child_depth, child_aliases = self.fragment(selection.name.value, visiting)
                depth, aliases = max(depth, child_depth), aliases + child_aliases
        return depth, aliases

    def fragment(self, name, visiting):
        # A cycle is reported by graphql-core's NoFragmentCyclesRule; here it only must end.
        if name in visiting:
            return 0, 0
        if name not in self.fragments:
            definition = self.context.get_fragment(name)
            self.fragments[name] = (
                self.selections(definition.selection_set, visiting | {name}) if definition else (0, 0)
            )
        return self.fragments[name]


@lru_cache(maxsize=32)
def document_limits_rule(max_depth, max_aliases):
    class DocumentLimitsRule(ValidationRule):
        def enter_operation_definition(self, node, *_):
            depth, aliases = _Measure(self.context).selections(node.selection_set)
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"The query has depth {depth} (root fields are at depth 0); at most {max_depth} is allowed.",
                        node,
                    )
                )
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(f"The query uses {aliases} aliases; at most {max_aliases} are allowed.", node)
                )

    return DocumentLimitsRule


# Clients send the same few operations over and over, and those are small. A document near the
# body limit costs about a megabyte parsed, so caching such ones would let a few hundred
# distinct requests pin hundreds of megabytes in every worker.
CACHED_QUERY_LENGTH = 10_000


def _parse(query, max_tokens):
    return parse(query, max_tokens=max_tokens)


def _field_count(document):
    """Field selections written in the document; a fragment's fields count once, where it is defined."""
    count = 0
    pending = [definition.selection_set for definition in document.definitions if hasattr(definition, "selection_set")]
    while pending:
        for selection in pending.pop().selections:
            count += isinstance(selection, FieldNode)
            if getattr(selection, "selection_set", None) is not None:
                pending.append(selection.selection_set)
    return count


def _validate(schema, document, rules, hide_suggestions, max_fields):
    """(the document's validation errors, and for a valid document its NodeCount)."""
    # graphql-core's OverlappingFieldsCanBeMergedRule compares fields pairwise: 490 copies of
    # `me { id }` (within the token limit) cost it a second. Counting them first costs well
    # under a millisecond, so such documents are refused before any rule runs.
    fields = _field_count(document)
    if fields > max_fields:
        return (GraphQLError(f"The document selects {fields} fields; at most {max_fields} are allowed."),), None
    # A literal a scalar refuses (a DateTime that is not one) carries the scalar's
    # exception; dropped, so the error reads as the client's mistake, not the server's.
    errors = tuple(
        GraphQLError(error.message, error.nodes, extensions=error.extensions)
        for error in validate(schema, document, rules, hide_suggestions=hide_suggestions)
    )
    return errors, None if errors else NodeCount(schema, document)


class _SameDocument:
    """A parsed document as a cache key, hashed and compared by identity: graphql-core hashes and
    compares a document by walking every node (240 µs for a 4 KB document), and the parse cache
    hands out the same document object for the same text. The key holds its document, so no
    other document can take its id while the key is cached."""

    __slots__ = ("document",)

    def __init__(self, document):
        self.document = document

    def __hash__(self):
        return id(self.document)

    def __eq__(self, other):
        return isinstance(other, _SameDocument) and other.document is self.document


def _validate_same_document(schema, same_document, rules, hide_suggestions, max_fields):
    return _validate(schema, same_document.document, rules, hide_suggestions, max_fields)


_cached_parse = lru_cache(maxsize=256)(_parse)
_cached_validate = lru_cache(maxsize=256)(_validate_same_document)


def _count(context, node_count):
    """The operation's Count with this request's variables, or None when they do not fit their types."""
    schema = context.schema._schema
    operation = node_count.operation(context.operation_name)
    variables = {}
    if node_count.variables:
        coerced = get_variable_values(schema, node_count.variable_definitions(operation), context.variables or {})
        if isinstance(coerced, list):
            return None  # execution reports these errors, and nothing runs
        variables = coerced.coerced
    return node_count.count(operation, variables)


def _node_limit_errors(context, count):
    """The node limit's refusal of the operation, or none."""
    nodes, max_nodes = count.nodes, settings.GRAPHQL_MAX_NODES
    if nodes <= max_nodes:
        return []
    return [
        GraphQLError(
            f"The query may return {nodes} nodes; at most {max_nodes} are allowed.",
            get_operation_ast(context.graphql_document, context.operation_name),
            extensions={"code": GRAPHQL_VALIDATION_FAILED, "nodeCount": nodes, "maxNodes": max_nodes},
        )
    ]


def _cacheable(query):
    return len(query) <= CACHED_QUERY_LENGTH


def _validate_trusted(trusted, *arguments):
    """A trusted document's validation with these limits: worked out once, kept with the document."""
    key = arguments[2:]  # the rules and the limits; the schema is the one schema, the document its own
    if key not in trusted.validations:
        trusted.validations[key] = _validate(*arguments)
    return trusted.validations[key]


class DocumentLimits(SchemaExtension):
    """Every limit a document must pass before it runs, and the viewer's budget it is charged to.

    A trusted document (schema.manifests) was parsed at start and is validated once for each set
    of limits; other documents go through the caches above.
    """

    def on_operation(self) -> Iterator[None]:
        self.trusted = trusted_documents().with_text(self.execution_context.query)
        self.count = None
        yield

    def on_parse(self) -> Iterator[None]:
        # The parser stops at the token limit, so a huge document costs no more than that.
        context = self.execution_context
        if self.trusted is not None and self.trusted.tokens <= settings.GRAPHQL_MAX_TOKENS:
            context.graphql_document = self.trusted.document
            yield
            return
        try:
            parse_document = _cached_parse if _cacheable(context.query) else _parse
            context.graphql_document = parse_document(context.query, settings.GRAPHQL_MAX_TOKENS)
        except GraphQLError:
            # Strawberry parses again and turns the syntax error into a result that the
            # other extensions (ContractErrors) see; raised from here, it would skip them.
            context.parse_options["max_tokens"] = settings.GRAPHQL_MAX_TOKENS
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        rules = (
            *context.validation_rules,
            MaybeNullValidationRule,
            OneOfInputValidationRule,
            document_limits_rule(settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_ALIASES),
        )
        if not settings.GRAPHQL_INTROSPECTION:
            rules = (*rules, NoSchemaIntrospectionCustomRule)
        arguments = (
            context.schema._schema,
            context.graphql_document,
            rules,
            not settings.DEBUG,
            settings.GRAPHQL_MAX_FIELDS,
        )
        if context.graphql_document is getattr(self.trusted, "document", None):
            errors, node_count = _validate_trusted(self.trusted, *arguments)
        elif _cacheable(context.query):
            schema, document, *limits = arguments
            errors, node_count = _cached_validate(schema, _SameDocument(document), *limits)
        else:
            errors, node_count = _validate(*arguments)
        self.count = None if errors else _count(context, node_count)
        # Setting the errors here tells Strawberry that validation has run; any error stops execution.
        context.pre_execution_errors = list(errors) or (
            _node_limit_errors(context, self.count) if self.count is not None else []
        )
        yield

    def on_execute(self) -> Iterator[None]:
        # Refused by an earlier check (the operator's codenames), or variables that do not fit:
        # nothing runs, nothing is spent. A subscription spends nothing (docs/subscriptions.md):
        # its events are the server's to send, each within the node limit and the response budget.
        context = self.execution_context
        if context.result is None and self.count is not None and context.operation_type != OperationType.SUBSCRIPTION:
            charge(context, self.count)
        yield
