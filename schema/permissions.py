"""Small composable permission rules, declared on each field where it is read.

Each rule either lets the field run or raises the contract's error itself, so the
code a client sees (UNAUTHENTICATED with a reason, FORBIDDEN with the missing
codenames) is decided next to the rule that failed. Every protected field also
gets ConfiguredCodenames, the operator's extra requirements from settings.

Every field has a declared rule (tests/test_authorization_coverage.py walks the schema):
either its own, through protected_field / protected_mutation, or, for the fields of an
object type, the rule of the type: `@inherit_visibility` says that whoever may see the
object may read those fields. Such fields keep Strawberry's fast path (no resolver wrapper,
no per-item check); operator codenames configured for them are checked once per operation
by ConfiguredCodenamesOfInheritedFields before anything runs.
"""

from functools import cache

import strawberry
from django.conf import settings
from graphql import GraphQLError, TypeInfo, TypeInfoVisitor, Visitor, is_abstract_type, visit
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.permission import BasePermission, PermissionExtension

from schema.errors import Forbidden, Unauthenticated


def viewer_of(info):
    return info.context.viewer_for(info)


def authenticated_user(info):
    """The viewer's user, or UNAUTHENTICATED with the reason its credential was refused."""
    return user_of_viewer(viewer_of(info))


def user_of_viewer(viewer):
    if not viewer.is_authenticated:
        raise Unauthenticated(viewer.rejection) if viewer.rejection else Unauthenticated()
    return viewer.user


def require_codenames(user, codenames):
    missing = [codename for codename in codenames if not user.has_perm(codename)]
    if missing:
        raise Forbidden(required=missing)


class AllowAny(BasePermission):
    def has_permission(self, source, info, **kwargs):
        return True


class IsAuthenticated(BasePermission):
    def has_permission(self, source, info, **kwargs):
        authenticated_user(info)
        return True


class IsStaff(BasePermission):
    def has_permission(self, source, info, **kwargs):
        if not authenticated_user(info).is_staff:
            raise Forbidden()
        return True


class IsStaffOrCodename(BasePermission):
    def __init__(self, codename):
        self.codename = codename

    def has_permission(self, source, info, **kwargs):
        user = authenticated_user(info)
        if not user.is_staff:
            require_codenames(user, [self.codename])
        return True


class HasCodenames(BasePermission):
    def __init__(self, *codenames):
        self.codenames = codenames

    def has_permission(self, source, info, **kwargs):
        require_codenames(authenticated_user(info), self.codenames)
        return True


class IsSelfOrStaff(BasePermission):
    """For fields of User: the user themself, or staff."""

    def has_permission(self, source, info, **kwargs):
        user = authenticated_user(info)
        if user.pk != source.pk and not user.is_staff:
            raise Forbidden()
        return True


class IsSelfOrStaffOrCodename(BasePermission):
    """For fields of User: the user themself, staff, or a holder of `codename`."""

    def __init__(self, codename):
        self.codename = codename

    def has_permission(self, source, info, **kwargs):
        user = authenticated_user(info)
        if user.pk != source.pk and not user.is_staff:
            require_codenames(user, [self.codename])
        return True


class IsTokenLogin(BasePermission):
    """Authenticated by a token from tokenAuth: an API key can never manage credentials."""

    def has_permission(self, source, info, **kwargs):
        authenticated_user(info)
        if viewer_of(info).api_key is not None:
            raise Forbidden("API keys cannot manage credentials; log in with tokenAuth and use the access token.")
        return True


class NoReadOnlyKey(BasePermission):
    """Part of every mutation (see protected_mutation): a read-only API key changes nothing."""

    def has_permission(self, source, info, **kwargs):
        api_key = viewer_of(info).api_key
        if api_key is not None and api_key.read_only:
            raise Forbidden("This API key is read-only; mutations need a key that is not.")
        return True


class ObjectRule(BasePermission):
    """For a mutation on one object: `check(viewer_user, **arguments)` is the domain's rule.

    It raises NotFound when the viewer may not see the object and PermissionDenied (with the
    missing codenames) when they may see it but not do this; the domain function runs the same
    check again inside its transaction.
    """

    def __init__(self, check):
        self.check = check

    def has_permission(self, source, info, **kwargs):
        self.check(authenticated_user(info), **kwargs)
        return True


class ConfiguredCodenames(BasePermission):
    """Codenames an operator requires for a field through settings.GRAPHQL_FIELD_CODENAMES."""

    def has_permission(self, source, info, **kwargs):
        codenames = settings.GRAPHQL_FIELD_CODENAMES.get(f"{info.path.typename}.{info.field_name}")
        if codenames:
            require_codenames(authenticated_user(info), codenames)
        return True


def _permission_extension(rules):
    return PermissionExtension([*rules, ConfiguredCodenames()], use_directives=False)


def protected_field(*rules, **field_kwargs):
    """A query or object field that runs only when every rule allows it."""
    return strawberry.field(extensions=[_permission_extension(rules)], **field_kwargs)


def protected_mutation(*rules, **field_kwargs):
    """A mutation that runs only when every rule allows it, and never for a read-only API key."""
    return strawberry.mutation(extensions=[_permission_extension((NoReadOnlyKey(), *rules))], **field_kwargs)


def inherit_visibility(cls):
    """Declares the rule of an object type's fields that have none of their own: whoever may see the object."""
    cls.__inherits_visibility__ = True
    return cls


def inherits_visibility(strawberry_type):
    return getattr(strawberry_type.origin, "__inherits_visibility__", False)


def has_own_rule(field):
    return any(isinstance(extension, PermissionExtension) for extension in field.extensions)


@cache
def fields_with_inherited_rules(strawberry_schema):
    """GraphQL names ("Type.field") of the fields whose rule is their type's."""
    names = set()
    for type_name in strawberry_schema._schema.type_map:
        definition = strawberry_schema.get_type_by_name(type_name)
        if definition is not None and hasattr(definition, "fields") and inherits_visibility(definition):
            names.update(
                f"{type_name}.{strawberry_schema.config.name_converter.get_graphql_name(field)}"
                for field in definition.fields
                if not has_own_rule(field)
            )
    return frozenset(names)


def selected_field_names(schema, document):
    """Every "Type.field" the document selects, through fragments too.

    A field selected on an interface or a union (`node(id: $id) { id }`) may be read on any
    of its object types, so it counts as selected on each of them.
    """
    type_info = TypeInfo(schema)
    names = set()

    class CollectFields(Visitor):
        def enter_field(self, node, *_):
            parent = type_info.get_parent_type()
            if parent is not None:
                types = schema.get_possible_types(parent) if is_abstract_type(parent) else [parent]
                names.update(f"{object_type.name}.{node.name.value}" for object_type in types)

    visit(document, TypeInfoVisitor(type_info, CollectFields()))
    return names


class ConfiguredCodenamesOfInheritedFields(SchemaExtension):
    """Operator codenames for fields without a rule of their own, checked once before execution."""

    def on_execute(self):
        configured = settings.GRAPHQL_FIELD_CODENAMES
        if configured:
            context = self.execution_context
            inherited = fields_with_inherited_rules(context.schema)
            selected = selected_field_names(context.schema._schema, context.graphql_document)
            required = {
                codename for name in selected & inherited for codename in configured.get(name, ())
            }
            if required:
                try:
                    require_codenames(user_of_viewer(context.context.viewer), required)
                except (Forbidden, Unauthenticated) as refused:
                    error = GraphQLError(refused.message, original_error=refused)
                    context.result = GraphQLExecutionResult(data=None, errors=[error])
        yield
