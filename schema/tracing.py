"""Spans for GraphQL operations (project.tracing turns tracing on): Strawberry's
OpenTelemetryExtension, minus the attributes that could carry a secret.

Strawberry's extension records the whole document as the operation span's `query`, and every
argument of every traced resolver as `graphql.param.<name>`: a password or a refresh token
written in the document or passed as an argument would leave the server in a span, and so would
one in the text of an exception, which its spans record (ExceptionsUntold). Here the
operation span holds the operation's type, its root field and its outcome (schema.operation_metrics),
and the client's operationName; resolver spans hold the field's path. Resolvers are traced when
the schema gives them code of their own (a root field, a connection); plain fields read an
attribute and are not.
"""

from collections.abc import Iterator
from functools import partial

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from strawberry.extensions import LifecycleStep
from strawberry.extensions.tracing import OpenTelemetryExtensionSync

from schema.errors import INTERNAL_SERVER_ERROR
from schema.operation_metrics import described, with_outcome


class OperationTracing(OpenTelemetryExtensionSync):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._tracer = ExceptionsUntold(self._tracer)

    def on_operation(self) -> Iterator[None]:
        span = self._tracer.start_span("GraphQL operation")
        span.set_attribute("component", "graphql")
        self._span_holder[LifecycleStep.OPERATION] = span
        with trace.use_span(span, end_on_exit=True, **UNTOLD):
            yield from with_outcome(self.execution_context, partial(self._describe, span))

    def _describe(self, span, result):
        context = self.execution_context
        operation_type, operation = described(context)
        span.update_name(f"GraphQL {operation_type} {operation}")
        span.set_attribute("graphql.operation.type", operation_type)
        span.set_attribute("graphql.operation.root_field", operation)
        span.set_attribute("graphql.outcome", result)
        if context.operation_name:
            span.set_attribute("graphql.operation.name", context.operation_name)
        if result == INTERNAL_SERVER_ERROR:
            span.set_status(Status(StatusCode.ERROR))

    def filter_resolver_args(self, args, info):
        return {}


UNTOLD = {"record_exception": False, "set_status_on_exception": False}


class ExceptionsUntold:
    """A tracer whose spans keep no exception: its text may hold what the server never exports (a
    value an argument carried, a host's name). The log line with the request's id has it; the
    operation span's outcome says that something failed."""

    def __init__(self, tracer):
        self.tracer = tracer

    def start_span(self, name, **kwargs):
        return self.tracer.start_span(name, **{**kwargs, **UNTOLD})

    def start_as_current_span(self, name, **kwargs):
        return self.tracer.start_as_current_span(name, **{**kwargs, **UNTOLD})
