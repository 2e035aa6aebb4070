"""Every root field that needs a viewer, tried with no credential and with each kind of bad one.

The operations are built from the live schema, so a field added later is tried too.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    Undefined,
    get_named_type,
    is_leaf_type,
)

from schema.relay import to_global_id
from schema.schema import schema
from tests.graphql_util import GraphQLClient
from tests.tokens_util import claims_of, with_payload

PUBLIC_FIELDS = {
    "Mutation.register",
    "Mutation.tokenAuth",
    "Mutation.refreshToken",
    "Mutation.revokeToken",
    "Mutation.requestPasswordReset",
    "Mutation.resetPassword",
    "Mutation.verifyEmail",
    "Query.oidcProviders",
    "Mutation.oidcAuthorizationUrl",
    "Mutation.oidcLogin",
    # The budget of whoever asks: a refused credential's client address (tests/test_budget.py).
    "Query.rateLimit",
}
SAMPLE_SCALARS = {
    "ID": to_global_id("Task", 1),
    "String": "x",
    "Int": 1,
    "Boolean": False,
    "DateTime": "2099-01-01T00:00:00Z",
}


def sample(graphql_type):
    """A value of the type that passes GraphQL's coercion, so only the field's rule can refuse it."""
    if isinstance(graphql_type, GraphQLNonNull):
        return sample(graphql_type.of_type)
    if isinstance(graphql_type, GraphQLList):
        return [sample(graphql_type.of_type)]
    if isinstance(graphql_type, GraphQLEnumType):
        return next(iter(graphql_type.values))
    if isinstance(graphql_type, GraphQLInputObjectType):
        return {
            name: sample(field.type)
            for name, field in graphql_type.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    return SAMPLE_SCALARS[graphql_type.name]


def protected_root_operations():
    for operation, root in (("query", schema._schema.query_type), ("mutation", schema._schema.mutation_type)):
        for name, field in root.fields.items():
            if f"{root.name}.{name}" in PUBLIC_FIELDS:
                continue
            required = {arg: spec for arg, spec in field.args.items() if isinstance(spec.type, GraphQLNonNull)}
            declared = "".join(f"${arg}: {spec.type} " for arg, spec in required.items())
            passed = ", ".join(f"{arg}: ${arg}" for arg in required)
            selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
            document = f"{operation}{f'({declared})' if declared else ''} {{ {name}{f'({passed})' if passed else ''}{selection} }}"
            variables = {arg: sample(spec.type) for arg, spec in required.items()}
            yield pytest.param(document, variables, id=f"{root.name}.{name}")


ROOT_OPERATIONS = list(protected_root_operations())


def refusal(result):
    assert result["data"] is None or all(value is None for value in result["data"].values()), result
    (error,) = result["errors"]
    return error["extensions"]["code"], error["extensions"].get("reason")


def test_the_walk_covers_the_fields_of_the_contract():
    names = {param.id for param in ROOT_OPERATIONS}
    assert {"Query.me", "Query.tasks", "Query.auditEvents", "Mutation.createTask", "Mutation.setupTotp"} <= names
    root_fields = len(schema._schema.query_type.fields) + len(schema._schema.mutation_type.fields)
    assert len(names) == root_fields - len(PUBLIC_FIELDS)


@pytest.mark.django_db
@pytest.mark.parametrize(("document", "variables"), ROOT_OPERATIONS)
def test_anonymous(document, variables):
    assert refusal(GraphQLClient().execute(document, variables)) == ("UNAUTHENTICATED", "missing_credentials")


@pytest.fixture
def alices_tokens(alice):
    return GraphQLClient().login("alice")


@pytest.mark.parametrize(("document", "variables"), ROOT_OPERATIONS)
def test_with_a_tampered_token(alices_tokens, bob, document, variables):
    claims = {**claims_of(alices_tokens["access"]), "user_id": str(bob.pk), "username": "bob"}
    client = GraphQLClient().authenticate(with_payload(alices_tokens["access"], claims))
    assert refusal(client.execute(document, variables)) == ("UNAUTHENTICATED", "token_invalid")


@pytest.mark.parametrize(("document", "variables"), ROOT_OPERATIONS)
def test_with_an_expired_token(alices_tokens, document, variables):
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        client = GraphQLClient().authenticate(alices_tokens["access"])
        assert refusal(client.execute(document, variables)) == ("UNAUTHENTICATED", "token_expired")


@pytest.mark.parametrize(("document", "variables"), ROOT_OPERATIONS)
def test_with_a_revoked_token(alices_tokens, document, variables):
    GraphQLClient().execute(
        "mutation($r: String!) { revokeToken(refresh: $r) { revoked } }", {"r": alices_tokens["refresh"]}
    )
    client = GraphQLClient().authenticate(alices_tokens["access"])
    assert refusal(client.execute(document, variables)) == ("UNAUTHENTICATED", "token_revoked")


@pytest.mark.django_db
@pytest.mark.parametrize(("document", "variables"), ROOT_OPERATIONS)
def test_with_an_unknown_api_key(document, variables):
    client = GraphQLClient()
    client.headers = {"HTTP_X_API_KEY": "gqlauth_0123456789abcdef_" + "A" * 43}
    assert refusal(client.execute(document, variables)) == ("UNAUTHENTICATED", "api_key_invalid")
