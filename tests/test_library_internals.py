"""The library internals the project relies on are still there, with the shapes it calls.

Each of these is private API of a pinned library. An upgrade that changes one must fail here,
loudly and by name, rather than somewhere deep in a request: update the code that uses it
(named in each test), then the expectation below.
"""

import inspect
from datetime import UTC, datetime
from importlib.metadata import version

import pytest
import time_machine
from django.core.cache.backends.redis import RedisCacheClient
from django.db.models import Count
from django.db.models.expressions import Col
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.query import Query
from django_ratelimit.core import get_usage
from graphql import GraphQLBoolean, GraphQLID, GraphQLString, build_schema, parse
from strawberry.extensions.tracing import OpenTelemetryExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.info import Info

from accounts import ratelimit
from accounts.models import LoginSession, User
from project.env import RATE_PATTERN
from schema.execution import _PASSED_UNCHANGED, BudgetedExecution


def parameters(function):
    return list(inspect.signature(function).parameters)


def test_the_pinned_versions_are_the_ones_installed(settings):
    pins = {}
    for line in (settings.BASE_DIR / "requirements.txt").read_text().splitlines():
        name, _, pinned = line.partition("==")
        pins[name.split("[")[0].strip().lower()] = pinned.strip()
    for package in (
        "strawberry-graphql", "graphql-core", "django-ratelimit", "django", "prometheus-client",
        "opentelemetry-sdk", "opentelemetry-instrumentation-django", "authlib", "joserfc",
    ):  # fmt: skip
        assert version(package) == pins[package], f"{package} is not the pinned version"


def test_graphql_cores_execution_methods_that_schema_execution_overrides():
    """schema/execution.py (PlainFieldShortcut and the response budget) overrides and calls these."""
    executor = StrawberryGraphQLCoreExecutionContext
    assert parameters(executor.execute_fields) == [
        "self", "parent_type", "source_value", "path", "grouped_field_set", "position_context",
    ]  # fmt: skip
    assert parameters(executor.execute_field) == [
        "self", "parent_type", "source", "field_details_list", "path", "position_context",
    ]  # fmt: skip
    assert parameters(executor.collect_subfields) == ["self", "return_type", "field_details_list"]
    assert parameters(executor.handle_field_error) == ["self", "raw_error", "return_type", "field_details_list", "path"]
    assert parameters(executor.complete_leaf_value) == ["return_type", "result"]
    assert parameters(executor.settle_in_background) == ["self", "awaitables"]
    assert parameters(executor.execute_operation) == ["self", "serially"]
    assert parameters(executor.build_per_event_executor) == ["self", "payload"]
    # build_per_event_executor empties the cache of collected selections, by this name.
    built = executor.build(build_schema("type Query { a: String }"), parse("{ a }"))
    assert isinstance(built._relevant_sub_fields, dict)


def test_strawberrys_private_hooks_that_the_schema_uses():
    """schema/codenames.py reads the GraphQL return type through Info._raw_info."""
    assert parameters(Info.__init__) == ["self", "_raw_info", "_field"]


def test_graphql_cores_executor_build_that_schema_execution_overrides(settings):
    """BudgetedExecution.build hides suggestions outside DEBUG by passing hide_suggestions to
    graphql-core's Executor.build, which coerces the variables with it."""
    assert "hide_suggestions" in parameters(StrawberryGraphQLCoreExecutionContext.build)
    schema = build_schema("enum Colour { RED } type Query { paint(colour: Colour): String }")
    document = parse("query($colour: Colour) { paint(colour: $colour) }")
    for debug, suggested in ((False, False), (True, True)):
        settings.DEBUG = debug
        errors = BudgetedExecution.build(schema, document, raw_variable_values={"colour": "RDE"})
        assert ("Did you mean" in errors[0].message) is suggested, errors


@pytest.mark.django_db
def test_djangos_sql_compiler_that_accounts_compiled_lookup_runs_again():
    """CompiledLookup keeps what Query.get_compiler(using).as_sql() made (SQL, parameters, the
    select list of (Col, sql, alias) whose targets name the fields) and converts each row with the
    compiler's get_converters and apply_converters."""
    assert parameters(Query.get_compiler) == ["self", "using", "connection", "elide_empty"]
    assert parameters(SQLCompiler.as_sql) == ["self", "with_limits", "with_col_aliases"]
    assert parameters(SQLCompiler.get_converters) == ["self", "expressions"]
    assert parameters(SQLCompiler.apply_converters) == ["self", "rows", "converters"]
    compiler = LoginSession.objects.select_related("user").filter(pk="0" * 32).query.get_compiler(using="default")
    compiler.as_sql()  # which fills compiler.select
    assert all(isinstance(column, Col) for column, _, _ in compiler.select)
    assert [column.target for column, _, _ in compiler.select] == [
        *LoginSession._meta.concrete_fields, *User._meta.concrete_fields,
    ]  # fmt: skip
    converters = compiler.get_converters([column for column, _, _ in compiler.select])
    assert all(isinstance(position, int) for position in converters)


@pytest.mark.django_db
def test_djangos_sql_compiler_that_column_plans_keep_page_sql_of():
    """schema.columns keys a page's SQL by its list's WHERE, compiled alone with
    compiler.compile(query.where) (FullResultSet when there is no condition), and the join
    types of Query.alias_map; it checks that the page's select list (compiler.select, filled by
    as_sql) names its columns as values_list does, in its order, and converts rows as
    CompiledLookup does."""
    from django.core.exceptions import FullResultSet
    from django.db.models.sql.datastructures import Join

    from tasks.models import Task

    assert parameters(SQLCompiler.compile) == ["self", "node"]
    everything = Task.objects.all().query
    with pytest.raises(FullResultSet):
        everything.get_compiler(using="default").compile(everything.where)
    listed = Task.objects.filter(owner__username="someone").query
    assert listed.get_compiler(using="default").compile(listed.where)[1] == ["someone"]
    assert [join.join_type for join in listed.alias_map.values() if isinstance(join, Join)] == ["INNER JOIN"]
    values = Task.objects.annotate(seen=Count("*")).values_list("seen", "title", "pk")
    compiler = values.query.get_compiler(using="default")
    compiler.as_sql()
    assert values._fields == ("seen", "title", "pk")
    assert [alias for _, _, alias in compiler.select] == ["seen", "title", "pk"]


def test_graphql_cores_scalars_whose_output_coercion_a_selection_plan_skips():
    """schema.execution's plans do not call String's, ID's and Boolean's output coercion for a
    value of the type it returns unchanged."""
    for scalar, sample in ((GraphQLString, "a text"), (GraphQLID, "an id"), (GraphQLBoolean, True)):
        assert _PASSED_UNCHANGED[id(scalar)] is type(sample)
        assert scalar.coerce_output_value(sample) is sample
    assert len(_PASSED_UNCHANGED) == 3


def test_djangos_sql_compiler_that_accounts_held_codenames_runs_again():
    """HeldCodenames keeps what Query.get_compiler(using).as_sql() made for the codenames query
    (SQL, the user's id as its only parameters) and checks with get_converters that its columns
    need no converting."""
    assert parameters(Query.get_compiler) == ["self", "using", "connection", "elide_empty"]
    assert parameters(SQLCompiler.as_sql) == ["self", "with_limits", "with_col_aliases"]
    assert parameters(SQLCompiler.get_converters) == ["self", "expressions"]


def test_strawberrys_opentelemetry_extension_that_schema_tracing_adjusts():
    """schema/tracing.py starts the operation span itself (from _tracer, kept in _span_holder under
    LifecycleStep.OPERATION, where the other hooks find their parent) and empties
    filter_resolver_args, through which add_tags records every argument."""
    assert parameters(OpenTelemetryExtension.filter_resolver_args) == ["self", "args", "info"]
    assert "self.filter_resolver_args(kwargs, info)" in inspect.getsource(OpenTelemetryExtension.add_tags)
    for hook in (OpenTelemetryExtension.on_parse, OpenTelemetryExtension.on_validate, OpenTelemetryExtension.resolve):
        assert "self._span_holder[LifecycleStep.OPERATION]" in inspect.getsource(hook)
    assert "tracer_provider" in parameters(OpenTelemetryExtension.__init__)


def test_djangos_redis_client_that_the_policy_check_asks():
    """accounts/checks.py reads maxmemory-policy, and project/health.py pings, through RedisCache._cache.get_client."""
    assert parameters(RedisCacheClient.get_client) == ["self", "key", "write"]


@pytest.mark.parametrize("rate", ["3/m", "2/h"])
def test_the_read_only_count_agrees_with_django_ratelimits_own(rate):
    """accounts/ratelimit._seconds_limited rebuilds django-ratelimit's key and window with its
    private helpers, to read a counter without creating it: it must see what get_usage sees."""
    assert RATE_PATTERN.match(rate)
    limit = int(rate.split("/")[0])
    with time_machine.travel(datetime(2026, 11, 30, 12, 0, 7, tzinfo=UTC), tick=False):
        assert ratelimit._seconds_limited("internals", "someone", rate) == 0
        for _ in range(limit):
            usage = get_usage(None, group="internals", key=lambda *_: "someone", rate=rate, increment=True)
        assert not usage["should_limit"]
        # The next attempt would be refused: the read sees it, for as long as get_usage says.
        assert ratelimit._seconds_limited("internals", "someone", rate) == usage["time_left"] > 0
        assert ratelimit._seconds_limited("internals", "someone else", rate) == 0


def test_authlibs_openid_client_that_accounts_oidc_builds_on():
    """accounts/oidc.py makes an Authlib client from its base classes (no web framework), sets
    the token endpoint's client authentication in `client_kwargs` once the discovery document is
    read, and adds checks to the ID token's claims through `claims_options` ("validate" hooks,
    which tests/test_oidc_login.py sees refuse an early `iat` and a long `sub`). Its JOSE is
    joserfc's: Authlib's own authlib.jose is deprecated and must not be loaded."""
    import sys

    from authlib.integrations.base_client import OAuth2Mixin, OpenIDMixin

    from accounts import oidc

    assert parameters(OAuth2Mixin.create_authorization_url) == ["self", "redirect_uri", "kwargs"]
    assert parameters(OAuth2Mixin.fetch_access_token) == ["self", "redirect_uri", "kwargs"]
    assert parameters(OpenIDMixin.parse_id_token) == [
        "self",
        "token",
        "nonce",
        "claims_options",
        "claims_cls",
        "leeway",
    ]
    client = oidc._ProviderClient(framework=None, client_id="a", client_secret="b", client_kwargs={})
    assert client.client_kwargs == {}
    assert "authlib.jose" not in sys.modules
