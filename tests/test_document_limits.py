"""GraphQL hardening (docs/security.md): each limit just under and just over, before any resolver runs."""

import random

import pytest
from django.conf import settings
from django.test import override_settings
from graphql import get_introspection_query
from graphql.validation import OverlappingFieldsCanBeMergedRule

from accounts.models import AuditEvent
from tests.graphql_util import error_codes, only_error

INTROSPECTION = "{ __schema { queryType { name } } }"


def typenames(count, alias=False):
    return "{ " + " ".join(f"a{n}: __typename" if alias else "__typename" for n in range(count)) + " }"


def test_defaults_match_the_contract():
    assert (settings.GRAPHQL_MAX_DEPTH, settings.GRAPHQL_MAX_ALIASES, settings.GRAPHQL_MAX_TOKENS) == (10, 15, 2000)
    assert settings.GRAPHQL_MAX_FIELDS == 200
    assert settings.GRAPHQL_MAX_BODY_BYTES == 100 * 1024
    assert (settings.LOGIN_RATE_LIMIT, settings.REGISTER_RATE_LIMIT, settings.TOKEN_RATE_LIMIT) == (
        "5/m",
        "20/h",
        "60/m",
    )
    assert not settings.GRAPHQL_INTROSPECTION and not settings.GRAPHIQL


def test_fifteen_aliases_pass_and_sixteen_are_refused(gql):
    assert "errors" not in gql.execute(typenames(15, alias=True))
    error = only_error(gql.execute(typenames(16, alias=True)))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "16 aliases" in error["message"]


def test_aliases_inside_fragments_count_each_time_the_fragment_is_spread(gql):
    query = """
    { ...F ...F ...F }
    fragment F on Query { ...G ... on Query { a: __typename b: __typename } }
    fragment G on Query { c: __typename d: __typename e: __typename }
    """
    assert "errors" not in gql.execute(query)
    with override_settings(GRAPHQL_MAX_ALIASES=14):
        assert error_codes(gql.execute(query)) == ["GRAPHQL_VALIDATION_FAILED"]


def test_a_chain_of_fragments_that_doubles_at_each_step_is_measured_without_expanding_it(gql):
    chain = "".join(f"fragment F{n} on Query {{ ...F{n + 1} ...F{n + 1} }}\n" for n in range(40))
    query = "{ ...F0 }\n" + chain + "fragment F40 on Query { x: __typename }"
    error = only_error(gql.execute(query))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert f"{2**40} aliases" in error["message"]


def test_cyclic_fragments_are_refused(gql):
    query = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    assert set(error_codes(gql.execute(query))) == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.mark.parametrize(
    ("query", "depth"),
    [
        ("{ me { id } }", 1),
        ("{ me { tasks { edges { node { id } } } } }", 4),
        ('{ node(id: "x") { ... on User { id } } }', 1),
        ("{ ...Me } fragment Me on Query { me { ...Name } } fragment Name on User { username }", 1),
        ("{ me { __typename tasks { totalCount } } }", 2),
    ],
)
def test_depth_counts_root_fields_as_zero_through_fragments_and_is_refused_just_over_the_limit(gql, query, depth):
    with override_settings(GRAPHQL_MAX_DEPTH=depth):
        assert "GRAPHQL_VALIDATION_FAILED" not in error_codes(gql.execute(query))
    with override_settings(GRAPHQL_MAX_DEPTH=depth - 1):
        error = only_error(gql.execute(query))
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert f"has depth {depth} " in error["message"]


def test_introspection_does_not_count_towards_depth(gql):
    deep_introspection = "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }"
    with override_settings(GRAPHQL_INTROSPECTION=True, GRAPHQL_MAX_DEPTH=1):
        assert "errors" not in gql.execute(deep_introspection)


def test_a_document_over_two_thousand_tokens_is_refused(gql):
    error = only_error(gql.execute("{" + " __typename" * 1999 + "}"))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "more than 2000 tokens" in error["message"]


@override_settings(GRAPHQL_MAX_TOKENS=100)
def test_the_token_limit_comes_from_settings_and_is_inclusive(gql):
    # graphql-core's overlapping-fields rule gives up on hundreds of identical fields,
    # so the boundary is shown on a smaller configured limit.
    assert "errors" not in gql.execute("{" + " __typename" * 98 + "}")
    error = only_error(gql.execute("{" + " __typename" * 99 + "}"))
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_syntax_errors_have_the_validation_code(gql):
    assert error_codes(gql.execute("{ me { id }")) == ["GRAPHQL_VALIDATION_FAILED"]


def test_limits_refuse_before_any_resolver_runs(gql, alice):
    logins = " ".join(f'a{n}: tokenAuth(username: "alice", password: "x") {{ access }}' for n in range(16))
    assert error_codes(gql.execute(f"mutation {{ {logins} }}")) == ["GRAPHQL_VALIDATION_FAILED"]
    assert not AuditEvent.objects.exists()


def test_introspection_is_off_outside_debug(gql):
    assert set(error_codes(gql.execute(INTROSPECTION))) == {"GRAPHQL_VALIDATION_FAILED"}
    assert error_codes(gql.execute('{ __type(name: "User") { name } }')) == ["GRAPHQL_VALIDATION_FAILED"]
    assert gql.execute("{ __typename }") == {"data": {"__typename": "Query"}}


@override_settings(GRAPHQL_INTROSPECTION=True)
def test_introspection_can_be_turned_on(gql):
    assert gql.execute(INTROSPECTION) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ mee { id } }", None),
        ("{ me { usernam } }", None),
        ('mutation { tokenAuth(usernam: "a", password: "b") { access } }', None),
        ("query ($id: I) { node(id: $id) { id } }", None),
        ("{ ...F } fragment F on Quer { __typename }", None),
        ("{ me @skip(iff: true) { id } }", None),
        ('{ tasks(filter: {serch: "x"}) { totalCount } }', None),
        ("{ tasks(orderBy: {field: TITEL, direction: ASC}) { totalCount } }", None),
        ("query ($f: TaskFilter) { tasks(filter: $f) { totalCount } }", {"f": {"serch": "x"}}),
        ("query ($o: TaskOrder) { tasks(orderBy: $o) { totalCount } }", {"o": {"field": "TITEL", "direction": "ASC"}}),
    ],
)
def test_no_suggestions_outside_debug_but_suggestions_with_it(gql, query, variables):
    error = gql.execute(query, variables)["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in error["message"]
    with override_settings(DEBUG=True):
        assert "Did you mean" in gql.execute(query, variables)["errors"][0]["message"]


def test_graphiql_is_off_outside_debug(client):
    assert client.get("/graphql/", HTTP_ACCEPT="text/html").status_code == 404


@override_settings(GRAPHIQL=True)
def test_graphiql_can_be_turned_on(client):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


# (type, field) from the root down: field number n is at depth n.
TEN_LEVELS = [
    ("Query", "me"), ("User", "tasks"), ("TaskConnection", "edges"), ("TaskEdge", "node"), ("Task", "owner"),
    ("User", "tasks"), ("TaskConnection", "edges"), ("TaskEdge", "node"), ("Task", "owner"), ("User", "tasks"),
]  # fmt: skip
AT_DEPTH_10 = "totalCount"
AT_DEPTH_11 = "edges { cursor }"


def nested_fields(leaf):
    selection = leaf
    for _, field in reversed(TEN_LEVELS):
        selection = f"{field} {{ {selection} }}"
    return f"{{ {selection} }}"


def nested_inline_fragments(leaf):
    selection = leaf
    for parent_type, field in reversed(TEN_LEVELS):
        selection = f"... on {parent_type} {{ {field} {{ {selection} }} }}"
    return f"{{ {selection} }}"


def nested_named_fragments(leaf):
    fragments = [
        f"fragment F{level} on {parent_type} {{ {field} {{ {f'...F{level + 1}' if level < 9 else leaf} }} }}"
        for level, (parent_type, field) in enumerate(TEN_LEVELS)
    ]
    return "{ ...F0 } " + " ".join(fragments)


@pytest.mark.parametrize("shape", [nested_fields, nested_inline_fragments, nested_named_fragments])
def test_the_default_depth_limit_allows_a_field_at_depth_ten_and_refuses_eleven(client_for, alice, shape):
    viewer = client_for(alice)
    assert viewer.execute(shape(AT_DEPTH_10)) == {"data": {"me": {"tasks": {"edges": []}}}}
    error = only_error(viewer.execute(shape(AT_DEPTH_11)))
    assert (error["extensions"]["code"], error["message"]) == (
        "GRAPHQL_VALIDATION_FAILED",
        "The query has depth 11 (root fields are at depth 0); at most 10 is allowed.",
    )


def test_only_small_documents_are_kept_in_the_parse_and_validation_caches(gql):
    from schema import limits

    caches = (limits._cached_parse, limits._cached_validate)
    for cache in caches:
        cache.cache_clear()
    large = "{ __typename }" + " " * limits.CACHED_QUERY_LENGTH  # blanks are not tokens

    assert gql.execute(large) == {"data": {"__typename": "Query"}}
    assert [cache.cache_info().currsize for cache in caches] == [0, 0]
    gql.execute("{ __typename }")
    gql.execute("{ __typename }")
    assert [(cache.cache_info().currsize, cache.cache_info().hits) for cache in caches] == [(1, 1), (1, 1)]


def spaced(document, seed=0):
    """The document with random runs of blanks between its tokens, as an attacker sends it to miss every cache."""
    chooser = random.Random(seed)
    return "".join(char + " " * chooser.randint(0, 3) if char in "{} " else char for char in document)


@pytest.fixture
def overlap_rule_runs(monkeypatch):
    """How many times graphql-core's OverlappingFieldsCanBeMergedRule (quadratic in fields) was set to work."""
    runs = []
    original = OverlappingFieldsCanBeMergedRule.__init__

    def counting(rule, context):
        runs.append(rule)
        original(rule, context)

    monkeypatch.setattr(OverlappingFieldsCanBeMergedRule, "__init__", counting)
    return runs


def test_hundreds_of_repeated_fields_are_refused_before_the_expensive_validation(gql, overlap_rule_runs):
    attack = spaced("{" + " me{id}" * 490 + " }", seed=1)
    error = only_error(gql.execute(attack))
    assert (error["extensions"]["code"], error["message"]) == (
        "GRAPHQL_VALIDATION_FAILED",
        "The document selects 980 fields; at most 200 are allowed.",
    )
    assert overlap_rule_runs == []
    assert gql.execute(spaced("{ __typename __typename }", seed=2)) == {"data": {"__typename": "Query"}}
    assert len(overlap_rule_runs) == 1, "the rule does run on documents within the limit"


def test_two_hundred_fields_pass_and_two_hundred_and_one_are_refused(gql):
    assert gql.execute(typenames(200)) == {"data": {"__typename": "Query"}}
    error = only_error(gql.execute(typenames(201)))
    assert error["message"] == "The document selects 201 fields; at most 200 are allowed."


def test_fields_of_a_fragment_count_once_however_often_it_is_spread(gql):
    fragment = "fragment T on Query { " + "__typename " * 150 + "}"
    assert gql.execute("{ ...T ...T ... on Query { ...T } } " + fragment) == {"data": {"__typename": "Query"}}
    with override_settings(GRAPHQL_MAX_FIELDS=149):
        assert only_error(gql.execute("{ ...T } " + fragment))["message"] == (
            "The document selects 150 fields; at most 149 are allowed."
        )


@override_settings(GRAPHQL_INTROSPECTION=True)
def test_the_full_introspection_query_of_graphiql_and_codegen_passes_every_limit(gql):
    query = get_introspection_query(
        descriptions=True,
        specified_by_url=True,
        directive_is_repeatable=True,
        schema_description=True,
        input_value_deprecation=True,
    )
    result = gql.execute(query)
    assert "errors" not in result and result["data"]["__schema"]["queryType"]["name"] == "Query"


def test_a_cached_document_is_found_without_walking_it(gql, monkeypatch):
    """graphql-core hashes a document by walking every node (240 µs for 4 KB); the validation cache
    finds the parse cache's document by identity instead."""
    from graphql.language import DocumentNode

    document = "{ me { id } tasksA: tasks(first: 1) { totalCount } }"
    gql.execute(document)
    walks = []
    hash_by_walking = DocumentNode.__hash__
    monkeypatch.setattr(DocumentNode, "__hash__", lambda node: walks.append(node) or hash_by_walking(node))
    gql.execute(document)
    assert walks == []
