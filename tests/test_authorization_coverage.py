"""Every field has a declared rule: its own, or (for fields of an object type) the type's."""

import strawberry
from graphql import GraphQLObjectType

from schema.permissions import (
    AllowAny,
    field_rule,
    has_own_rule,
    inherit_visibility,
    inherits_visibility,
    protected_field,
)
from schema.schema import schema

ROOT_TYPES = {"Query", "Mutation", "Subscription"}


def fields_without_a_rule(strawberry_schema):
    missing = []
    for name, graphql_type in strawberry_schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        definition = strawberry_schema.get_type_by_name(name)
        type_rule = name not in ROOT_TYPES and inherits_visibility(definition)
        missing += [
            f"{name}.{field.python_name}" for field in definition.fields if not (has_own_rule(field) or type_rule)
        ]
    return missing


def test_every_field_of_the_schema_has_a_declared_rule():
    assert fields_without_a_rule(schema) == []


def test_the_walk_finds_a_field_without_a_rule():
    @strawberry.type(description="Undeclared.")
    class Secret:
        value: str = strawberry.field(description="Nobody said who may read this.")

    @inherit_visibility
    @strawberry.type(description="Declared.")
    class Open:
        value: str = strawberry.field(description="Readable with the object.")

    @inherit_visibility  # a root type cannot give its fields a type-level rule: each needs its own
    @strawberry.type(description="Root.")
    class Query:
        declared: Open = protected_field(AllowAny(), description="Declared.")
        forgotten: Secret = strawberry.field(description="No rule.")

    assert fields_without_a_rule(strawberry.Schema(query=Query)) == ["Query.forgotten", "Secret.value"]


def test_every_declared_rule_describes_itself():
    """The authorization matrix (docs/authorization.md) is printed from these descriptions."""
    for name in schema._schema.type_map:
        definition = schema.get_type_by_name(name)
        for field in getattr(definition, "fields", None) or []:
            rule = field_rule(field)
            if rule is not None:
                assert isinstance(rule.rule.describe(), str) and rule.rule.describe(), f"{name}.{field.python_name}"
