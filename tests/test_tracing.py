"""Traces (docs/deployment.md): off by default, on with OpenTelemetry's variables; spans for the
request, the operation, parsing, validation and resolvers with code; never a secret in a span."""

import json
import os
import subprocess
import sys
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from project import tracing
from project.env import otel_traces_requested
from schema import views
from schema.schema import build_schema
from schema.tracing import OperationTracing
from tests.graphql_util import LOGIN, PASSWORD

REFRESH = "mutation Refresh($refresh: String!) { refreshToken(refresh: $refresh) { access refresh } }"
TASKS = "query Tasks { tasks(first: 5) { totalCount edges { node { id title owner { username } } } } }"


@pytest.fixture
def spans(monkeypatch):
    """Tracing as project.tracing.start() sets it up, into memory: the finished spans, in order."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(views, "schema", build_schema(tracing=True, tracer_provider=provider))
    tracing.instrument_django(provider)
    try:
        yield exporter.get_finished_spans
    finally:
        DjangoInstrumentor().uninstrument()


def post(body, **headers):
    return Client().post("/graphql/", json.dumps(body), content_type="application/json", **headers)


def named(finished, name):
    matching = [span for span in finished if span.name == name]
    assert len(matching) == 1, [span.name for span in finished]
    return matching[0]


def everything_recorded(finished):
    return " ".join(
        f"{span.name} {dict(span.attributes)} {[(event.name, dict(event.attributes)) for event in span.events]} "
        f"{span.status.description}"
        for span in finished
    )


def test_tracing_is_off_unless_opentelemetry_variables_ask_for_it():
    assert settings.TRACING_ENABLED is False
    assert "opentelemetry" not in " ".join(settings.MIDDLEWARE)
    assert not any(getattr(extension, "func", extension) is OperationTracing for extension in views.schema.extensions)


@pytest.mark.parametrize(
    ("environment", "requested"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "auth"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_the_standard_variables_turn_tracing_on(monkeypatch, environment, requested):
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert otel_traces_requested() is requested


def test_a_server_with_the_console_exporter_prints_its_spans(tmp_path):
    """The whole start-up path: settings, project.apps, the exporter, Django's middleware."""
    environment = {
        **{name: value for name, value in os.environ.items() if name not in ("TEST_DATABASE_URL", "REDIS_URL")},
        "DJANGO_SETTINGS_MODULE": "project.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "OTEL_TRACES_EXPORTER": "console",
    }
    script = (
        "import django; django.setup(); from django.conf import settings; from django.test import Client; "
        "from django.core.management import call_command; "
        "call_command('migrate', verbosity=0); call_command('createcachetable'); "
        "from opentelemetry import trace; "
        "print([name for name in settings.MIDDLEWARE if 'opentelemetry' in name]); "
        "Client(HTTP_HOST='127.0.0.1').get('/graphql/?query=%7B__typename%7D'); trace.get_tracer_provider().force_flush()"
    )
    result = subprocess.run([sys.executable, "-c", script], env=environment, capture_output=True, text=True,
                            timeout=60, cwd=settings.BASE_DIR)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "opentelemetry.instrumentation.django.middleware" in result.stdout
    assert '"name": "GET graphql' in result.stdout and '"name": "GraphQL query __typename"' in result.stdout


def test_an_operation_has_its_request_parse_validation_and_resolver_spans(alice, spans):
    response = post(
        {"query": LOGIN, "variables": {"username": "alice", "password": PASSWORD}, "operationName": "Login"}
    )
    assert "errors" not in response.json()

    finished = spans()
    [request] = [span for span in finished if span.name.startswith("POST graphql")]
    operation = named(finished, "GraphQL mutation tokenAuth")
    assert operation.parent.span_id == request.context.span_id
    for step in ("GraphQL Parsing", "GraphQL Validation", "GraphQL Resolving: tokenAuth"):
        assert named(finished, step).parent.span_id == operation.context.span_id
    assert operation.attributes["graphql.operation.name"] == "Login"
    assert operation.attributes["graphql.outcome"] == "OK"
    assert request.attributes["http.request.id"] == response["X-Request-ID"]


def test_plain_fields_get_no_span_of_their_own(alice, client_for, spans):
    client_for(alice).execute(TASKS)
    names = [span.name for span in spans()]
    assert "GraphQL Resolving: tasks" in names
    assert not [name for name in names if name.endswith((": title", ": username", ": id", ": node"))], names


def test_no_span_holds_a_password_a_token_a_variable_or_the_document(alice, spans):
    tokens = post({"query": LOGIN, "variables": {"username": "alice", "password": PASSWORD}}).json()["data"][
        "tokenAuth"
    ]
    # The refresh token as a variable, then written into the document itself.
    successor = post({"query": REFRESH, "variables": {"refresh": tokens["refresh"]}}).json()["data"]["refreshToken"]
    post({"query": REFRESH, "variables": {"refresh": successor["refresh"]}})
    rotated = post({"query": REFRESH, "variables": {"refresh": tokens["refresh"]}})  # reuse once its successor was used
    inline = f'mutation {{ tokenAuth(username: "alice", password: "{PASSWORD}") {{ access }} }}'
    post({"query": inline})
    # GET carries the document and its variables in the query string.
    Client().get("/graphql/?" + urlencode({"query": "query Me($secret: String) { me { id } }",
                                           "variables": json.dumps({"secret": "variable-value-123"})}))  # fmt: skip

    recorded = everything_recorded(spans())
    for secret in (PASSWORD, tokens["access"], tokens["refresh"], successor["refresh"], "variable-value-123",
                   "tokenAuth(username"):  # fmt: skip
        assert secret not in recorded
    assert "GraphQL Resolving: refreshToken" in recorded
    assert rotated.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_unexpected_error_marks_the_operation_span_and_no_span_keeps_its_text(alice, spans, monkeypatch):
    from accounts import login

    def explode(username, password, meta, otp=None):
        raise RuntimeError(f"database exploded near {password}")

    monkeypatch.setattr(login, "log_in", explode)
    post({"query": LOGIN, "variables": {"username": "alice", "password": PASSWORD}})
    operation = named(spans(), "GraphQL mutation tokenAuth")
    assert operation.attributes["graphql.outcome"] == "INTERNAL_SERVER_ERROR"
    assert operation.status.is_ok is False
    recorded = everything_recorded(spans())
    assert "exploded" not in recorded and PASSWORD not in recorded


def test_a_failure_outside_every_field_marks_the_operation_span_without_its_text(alice, client_for, spans, monkeypatch):
    from accounts import budget

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to cache.internal:6379")

    monkeypatch.setattr(budget, "spend", unreachable)
    post({"query": "{ me { id } }"}, **client_for(alice).headers)
    operation = named(spans(), "GraphQL query me")
    assert operation.attributes["graphql.outcome"] == "INTERNAL_SERVER_ERROR"
    assert operation.status.is_ok is False
    assert "cache.internal" not in everything_recorded(spans())


def test_probes_and_scrapes_make_no_spans(db, spans):
    Client().get("/healthz")
    Client().get("/readyz")
    assert spans() == ()
