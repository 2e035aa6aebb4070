"""The operator's codenames: settings.GRAPHQL_FIELD_CODENAMES, on top of every declared rule.

Keys are spelled as in schema.graphql: "Type.field" (a field of an object type) or "Type" (an
object type other than Query, Mutation and Subscription); values are codenames the viewer must
also hold. The map is read on every request, so override_settings works in tests; a key that
names nothing in the schema stops the server at start (check_keys, from SchemaConfig.ready),
since a typo would otherwise switch a rule off without a word.

A type-level key applies to every field that hands out objects of the type: a field of that
type, or of a connection of it (a connection fails as a whole, it is not filtered), and `node`
for ids of that type (checked before the lookup, so hidden and missing objects answer alike).

Where each requirement is checked:
- a field with its own rule: at that field (FieldRule), null and the error at its path;
- a field without one (Task.description; Task.owner under a "User" key): once per operation,
  before anything runs (InheritedFieldCodenames): the viewer gets FORBIDDEN and no data, and
  no mutation of the document runs;
- under a field that returns a payload whose user is the viewer (TokenPayload): for that user,
  once the field has resolved (check_payload_viewer);
- under a subscription field: by its rule, when the client subscribes and again for the viewer
  of every event (schema.permissions.SubscriptionRule).
"""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationType,
    get_named_type,
    get_operation_ast,
    is_abstract_type,
)
from strawberry.extensions import SchemaExtension

from accounts.exceptions import Forbidden, Unauthenticated
from schema.permissions import (
    ALLOWED,
    Access,
    HasCodenames,
    field_rule,
    has_own_rule,
    inherits_visibility,
    is_payload_viewer_type,
    refuse,
    viewer_of,
)

ROOT_TYPES = frozenset({"Query", "Mutation", "Subscription"})


def configured_map():
    return settings.GRAPHQL_FIELD_CODENAMES


def unknown_keys(graphql_schema, keys):
    """The keys of the map that name no object type (but a root type) nor a field of one."""
    unknown = []
    for key in keys:
        type_name, dot, field_name = key.partition(".")
        graphql_type = graphql_schema.type_map.get(type_name)
        known = isinstance(graphql_type, GraphQLObjectType) and not type_name.startswith("__")
        if known:
            known = field_name in graphql_type.fields if dot else type_name not in ROOT_TYPES
        if not known:
            unknown.append(key)
    return unknown


def check_keys(configured):
    from schema.schema import schema

    unknown = unknown_keys(schema._schema, configured)
    if unknown:
        raise ImproperlyConfigured(
            f"GRAPHQL_FIELD_CODENAMES names no type or field of the schema: {', '.join(map(repr, unknown))}. "
            'Keys are "Type.field" or "Type" as spelled in schema.graphql, such as "User.lastLogin" or "Task".'
        )


def _definition(strawberry_schema, type_name):
    return strawberry_schema.get_type_by_name(type_name)


@cache
def _listed_type(strawberry_schema, type_name):
    """The node type a connection or edge type lists (see permissions.lists_objects_of), else None."""
    origin = getattr(_definition(strawberry_schema, type_name), "origin", None)
    node_type = getattr(origin, "__lists_objects_of__", None)
    return None if node_type is None else node_type.__strawberry_definition__.name


@cache
def returned_types(strawberry_schema, type_name, field_name):
    """Names of the object types whose objects `type_name.field_name` hands out.

    Its own type, and the nodes of a connection; not the nodes of the connection it is part
    of (TaskEdge.node): the field that returned the connection answered for them.
    """
    graphql_field = strawberry_schema._schema.type_map[type_name].fields[field_name]
    returned = get_named_type(graphql_field.type).name
    types = {returned, _listed_type(strawberry_schema, returned)}
    return frozenset(types - {None, _listed_type(strawberry_schema, type_name)})


def requirements(strawberry_schema, type_name, field_name, configured):
    """The codenames `configured` requires for one field: its own key and its returned types' keys."""
    codenames = set(configured.get(f"{type_name}.{field_name}", ()))
    for returned in returned_types(strawberry_schema, type_name, field_name):
        codenames.update(configured.get(returned, ()))
    return codenames


def field_requirements(info):
    configured = configured_map()
    if not configured:
        return ()
    return requirements(info.schema, info.path.typename, info.field_name, configured)


def configured_verdict(viewer, codenames):
    return HasCodenames(*sorted(codenames)).verdict(Access(viewer)) if codenames else ALLOWED


def check_type_codenames(info, type_name):
    """The type-level codenames of `type_name` (for `node`, before it looks the id up)."""
    refuse(configured_verdict(viewer_of(info), configured_map().get(type_name, ())))


def reading_verdict(info, type_name, field_name, source=None):
    """Whether the viewer may read `type_name.field_name` (GraphQL names) of an object they were
    given: its declared rule and the operator's codenames. For arguments (search, filters,
    orderBy) that would otherwise reveal a field the viewer may not read."""
    strawberry_schema = info.schema
    strawberry_field = _strawberry_field(strawberry_schema, type_name, field_name)
    rule = field_rule(strawberry_field)
    viewer = viewer_of(info)
    verdict = rule.rule.verdict(Access(viewer, source)) if rule is not None else ALLOWED
    if verdict.allowed and configured_map():
        verdict = configured_verdict(viewer, requirements(strawberry_schema, type_name, field_name, configured_map()))
    return verdict


@cache
def _strawberry_field(strawberry_schema, type_name, field_name):
    get_graphql_name = strawberry_schema.config.name_converter.get_graphql_name
    return next(
        field for field in _definition(strawberry_schema, type_name).fields if get_graphql_name(field) == field_name
    )


@cache
def fields_with_inherited_rules(strawberry_schema):
    """GraphQL names ("Type.field") of the fields whose rule is their type's."""
    names = set()
    get_graphql_name = strawberry_schema.config.name_converter.get_graphql_name
    for type_name in strawberry_schema._schema.type_map:
        definition = _definition(strawberry_schema, type_name)
        if definition is not None and hasattr(definition, "fields") and inherits_visibility(definition):
            names.update(
                f"{type_name}.{get_graphql_name(field)}" for field in definition.fields if not has_own_rule(field)
            )
    return frozenset(names)


@cache
def _is_payload_viewer(strawberry_schema, type_name):
    return is_payload_viewer_type(_definition(strawberry_schema, type_name))


def inherited_requirements(strawberry_schema, parent_type, selection_set, fragments, configured):
    """The codenames required by the fields without a rule of their own in a selection, through
    fragments, down to (not into) payloads whose user is the viewer.

    A field selected on an interface (`node(id: $id) { id }`) may be read on any of its object
    types, so it counts as selected on each of them.
    """
    graphql_schema = strawberry_schema._schema
    inherited = fields_with_inherited_rules(strawberry_schema)
    required = set()
    walked_fragments = set()

    def walk(parent, selection_set):
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                graphql_field = parent.fields.get(name) if hasattr(parent, "fields") else None
                if graphql_field is None:  # __typename and the like
                    continue
                object_types = graphql_schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
                for object_type in object_types:
                    if f"{object_type.name}.{name}" in inherited:
                        required.update(requirements(strawberry_schema, object_type.name, name, configured))
                returned = get_named_type(graphql_field.type)
                if selection.selection_set is not None and not _is_payload_viewer(strawberry_schema, returned.name):
                    walk(returned, selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                walk(graphql_schema.get_type(condition.name.value) if condition else parent, selection.selection_set)
            elif selection.name.value not in walked_fragments and selection.name.value in fragments:
                walked_fragments.add(selection.name.value)
                fragment = fragments[selection.name.value]
                walk(graphql_schema.get_type(fragment.type_condition.name.value), fragment.selection_set)

    walk(parent_type, selection_set)
    return required


def payload_viewer_to_check(info):
    """Whether this field returns a payload whose user is the viewer (TokenPayload) while the
    operator has configured codenames, which must then be checked for that user."""
    return bool(configured_map()) and _is_payload_viewer(info.schema, get_named_type(info._raw_info.return_type).name)


def resolve_payload_for_its_viewer(resolve, info):
    """Resolve such a field, then check for the payload's user the codenames of the fields below
    it that have no rule of their own. Its user is only known once it has run (tokenAuth), so a
    refusal undoes what it did: the session it started, the refresh token it consumed."""
    with transaction.atomic():
        try:
            payload = resolve()
        except Exception as error:  # noqa: BLE001 - the field's own failure keeps what the field chose to keep
            failure = error
        else:
            failure = None
            refuse(selection_verdict(info, viewer_of(info)))
    if failure is not None:
        raise failure
    return payload


def selection_verdict(info, viewer):
    """Whether `viewer` holds the codenames of the fields without a rule of their own selected
    below this field (schema.permissions.SubscriptionRule, and payloads whose user is the viewer)."""
    configured = configured_map()
    if not configured:
        return ALLOWED
    raw_info = info._raw_info
    returned = get_named_type(raw_info.return_type)
    required = set()
    for field_node in raw_info.field_nodes:
        if field_node.selection_set is not None:
            required |= inherited_requirements(
                info.schema, returned, field_node.selection_set, raw_info.fragments, configured
            )
    return configured_verdict(viewer, required)


class InheritedFieldCodenames(SchemaExtension):
    """Operator codenames for fields without a rule of their own, checked once before execution.

    Not for subscriptions, whose field's rule checks them for every event (SubscriptionRule).
    """

    def on_execute(self):
        configured = configured_map()
        if configured:
            context = self.execution_context
            document = context.graphql_document
            operation = get_operation_ast(document, context.provided_operation_name) if document else None
            if operation is not None and operation.operation != OperationType.SUBSCRIPTION:
                graphql_schema = context.schema._schema
                fragments = {
                    definition.name.value: definition
                    for definition in document.definitions
                    if isinstance(definition, FragmentDefinitionNode)
                }
                root_type = graphql_schema.get_root_type(operation.operation)
                required = (
                    inherited_requirements(context.schema, root_type, operation.selection_set, fragments, configured)
                    if root_type is not None
                    else ()
                )
                try:
                    refuse(configured_verdict(context.context.viewer, required))
                except (Forbidden, Unauthenticated) as refused:
                    error = GraphQLError(refused.message, original_error=refused)
                    context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
