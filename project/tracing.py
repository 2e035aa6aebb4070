"""Traces through OpenTelemetry (docs/deployment.md): off unless OpenTelemetry's own variables ask
for them (settings.TRACING_ENABLED, project.env.otel_traces_requested).

start() runs once per process (project.apps), before Django builds its middleware chain:
- a tracer provider whose resource, sampler and batching follow OTEL_SERVICE_NAME,
  OTEL_RESOURCE_ATTRIBUTES, OTEL_TRACES_SAMPLER, OTEL_BSP_* as the SDK reads them;
- the exporters OTEL_TRACES_EXPORTER names: `otlp` (the default; OTLP over HTTP, configured by
  OTEL_EXPORTER_OTLP_* or OTEL_EXPORTER_OTLP_TRACES_*) and `console`;
- Django's instrumentation (a span per request, joined to the caller's trace by `traceparent`),
  placed after the request id and the operations endpoints: probes and scrapes make no spans.
The GraphQL spans come from schema.tracing, which the schema adds when tracing is on.

A span never holds a query string (GET /graphql/ carries the document and its variables there),
a header, the document or an argument.
"""

import os

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from project import request_id

SERVICE_NAME = "graphql-auth"


def start():
    provider = TracerProvider(resource=_resource())
    for exporter in _exporters():
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    instrument_django(provider)


def instrument_django(tracer_provider):
    position = settings.MIDDLEWARE.index("project.operations.OperationsEndpoints") + 1
    DjangoInstrumentor().instrument(
        tracer_provider=tracer_provider, middleware_position=position, request_hook=describe_request
    )


def describe_request(span, request):
    """Django's request span: its URL without the query string, and the request's id."""
    if span.is_recording():
        without_query = {
            "http.url": request.build_absolute_uri(request.path),
            "url.full": request.build_absolute_uri(request.path),
            "http.target": request.path,
            "url.query": "",
        }
        for attribute, value in without_query.items():
            if attribute in span.attributes:
                span.set_attribute(attribute, value)
        span.set_attribute("http.request.id", request_id.current())


def _resource():
    resource = Resource.create()
    if resource.attributes.get("service.name", "").startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    return resource


def _exporters():
    names = [name.strip() for name in os.environ.get("OTEL_TRACES_EXPORTER", "otlp").split(",") if name.strip()]
    exporters = []
    for name in names:
        if name == "otlp":
            exporters.append(_otlp_exporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name != "none":
            raise ImproperlyConfigured(f"OTEL_TRACES_EXPORTER: {name!r} is not one of otlp, console, none.")
    return exporters


def _otlp_exporter():
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol != "http/protobuf":
        raise ImproperlyConfigured(f"OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf is installed, not {protocol!r}.")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()
