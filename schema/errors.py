"""The contract's error codes (docs/errors.md), and how every failure becomes one."""

import logging
from collections.abc import Iterator

from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.utils.str_converters import to_camel_case

from accounts import audit
from accounts.exceptions import (
    Forbidden,
    InvalidCredentials,
    NotFound,
    OidcFailed,
    OtpInvalid,
    OtpRequired,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from project import request_id

logger = logging.getLogger("schema.errors")

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
NOT_FOUND = "NOT_FOUND"
BAD_USER_INPUT = "BAD_USER_INPUT"
INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
OTP_REQUIRED = "OTP_REQUIRED"
OTP_INVALID = "OTP_INVALID"
RATE_LIMITED = "RATE_LIMITED"
OIDC_FAILED = "OIDC_FAILED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
PERSISTED_QUERY_ONLY = "PERSISTED_QUERY_ONLY"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
# Every code a client can get (docs/errors.md); metrics count outcomes by these and no others.
CODES = frozenset(
    {
        UNAUTHENTICATED,
        FORBIDDEN,
        NOT_FOUND,
        BAD_USER_INPUT,
        INVALID_CREDENTIALS,
        OTP_REQUIRED,
        OTP_INVALID,
        RATE_LIMITED,
        GRAPHQL_VALIDATION_FAILED,
        INTERNAL_SERVER_ERROR,
    }
)


class BadRequest(Exception):
    """A request refused before any GraphQL runs (a body that is no JSON object, a document named
    twice): answered with HTTP 400 and this text (schema.views)."""

    status = 400


class ApiError(Exception):
    """A failure the client is meant to see: a message for people and a code for programs."""

    code = INTERNAL_SERVER_ERROR
    default_message = "Unexpected error."

    def __init__(self, message=None, code=None, **extensions):
        self.message = message or self.default_message
        super().__init__(self.message)
        self.extensions = {"code": code or self.code, **extensions}


def _forbidden(error):
    extensions = {"required": error.required} if error.required else {}
    if error.reason:
        extensions["reason"] = error.reason
    return ApiError(error.message, FORBIDDEN, **extensions)


# Domain errors whose contract code says all there is to say; the message is the domain's.
CODES_OF_DOMAIN_ERRORS = {
    InvalidCredentials: INVALID_CREDENTIALS,
    NotFound: NOT_FOUND,
    OtpRequired: OTP_REQUIRED,
    OtpInvalid: OTP_INVALID,
}


def from_domain_error(error):
    """The ApiError a domain exception stands for, or None for an unexpected one."""
    if isinstance(error, ValidationFailed):
        field_errors = {to_camel_case(name): messages for name, messages in error.field_errors.items()}
        return ApiError(error.message, BAD_USER_INPUT, fieldErrors=field_errors)
    if isinstance(error, Unauthenticated):
        return ApiError(error.message, UNAUTHENTICATED, reason=error.reason)
    if isinstance(error, Forbidden):
        return _forbidden(error)
    if isinstance(error, RateLimited):
        return ApiError(error.message, RATE_LIMITED, retryAfter=error.retry_after)
    if isinstance(error, OidcFailed):
        return ApiError(error.message, OIDC_FAILED, reason=error.reason)
    for domain_error, code in CODES_OF_DOMAIN_ERRORS.items():
        if isinstance(error, domain_error):
            return ApiError(error.message, code)
    return None


def is_about_the_document(error: GraphQLError):
    """Parse and validation errors, errors GraphQL raised itself (variable coercion, which wraps
    the scalar's own GraphQLError and, being about the request, has no path), and an operation
    of a kind the transport does not run (a query sent over the subscriptions' WebSocket)."""
    original = error.original_error
    return (
        original is None
        or (isinstance(original, GraphQLError) and error.path is None)
        or isinstance(original, InvalidOperationTypeError)
    )


# Strawberry raises these out of an operation on purpose: the HTTP view answers them with a 400.
REQUEST_REFUSALS = (MissingQueryError, CannotGetOperationTypeError, InvalidOperationTypeError)

SUBSCRIPTIONS_ONLY = "The WebSocket runs subscriptions only; send queries and mutations with POST /graphql/."


def is_unexpected(error: GraphQLError):
    return not is_about_the_document(error) and from_domain_error(error.original_error) is None


def format_error(error: GraphQLError):
    """Give every error a code; hide what went wrong inside unexpected ones, and give them the request's id."""
    original = error.original_error
    if is_about_the_document(error):
        code = (error.extensions or {}).get("code", GRAPHQL_VALIDATION_FAILED)
        message = SUBSCRIPTIONS_ONLY if isinstance(original, InvalidOperationTypeError) else error.message
        return GraphQLError(
            message, nodes=error.nodes, path=error.path, extensions={**(error.extensions or {}), "code": code}
        )
    api_error = from_domain_error(original)
    if api_error is None:
        message = str(original) if settings.DEBUG else ApiError.default_message
        # The id that the error's log line carries, so a user's report can be matched to it.
        extensions = {"code": INTERNAL_SERVER_ERROR}
        if request_id.current():
            extensions["requestId"] = request_id.current()
        return GraphQLError(message, nodes=error.nodes, path=error.path, extensions=extensions)
    return GraphQLError(api_error.message, nodes=error.nodes, path=error.path, extensions=api_error.extensions)


class ContractErrors(SchemaExtension):
    """Rewrites the errors of each result into the shape docs/errors.md promises.

    Every FORBIDDEN passes through here, whichever rule raised it, so this is where the
    audit log learns of refusals: one PERMISSION_DENIED event per operation that had any,
    recorded for the request's actor (a later field may have ended the viewer's session).

    A subscription's results (schema/sockets) are sent one by one while the operation runs,
    so each is shaped before it leaves (on_stream_result), and the operation's one refusal
    event is written at its first FORBIDDEN, outside the socket's event loop.
    """

    def on_operation(self) -> Iterator[None]:
        self.streamed = self.refusal_recorded = False
        yield
        if not self.streamed and _shape_errors(self.execution_context.result):
            audit.record(audit.EventType.PERMISSION_DENIED, **self._refusal())

    async def on_stream_result(self, result):
        self.streamed = True
        if _shape_errors(result) and not self.refusal_recorded:
            self.refusal_recorded = True
            await database_sync_to_async(audit.record)(audit.EventType.PERMISSION_DENIED, **self._refusal())

    def _refusal(self):
        context = self.execution_context.context
        return {"meta": context.meta, "user": context.actor.user, "success": False}


def shape_left_over_errors(result):
    """Give a code to the errors ContractErrors never saw: Strawberry makes them of an exception that
    ended the operation outside every field (an extension's hook failed: the budget's store or the
    database unreachable, say), and would answer the exception's own text without a code."""
    if result.errors:
        result.errors = [error if _has_code(error) else format_error(error) for error in result.errors]


def _has_code(error):
    return "code" in (error.extensions or {})


def _shape_errors(result):
    """Give the result's errors their contract shape; whether one of them is FORBIDDEN."""
    if result is None or not result.errors:
        return False
    result.errors = [format_error(error) for error in result.errors]
    return any(error.extensions["code"] == FORBIDDEN for error in result.errors)


def log_unexpected_errors(errors):
    """Expected failures (bad input, refused tokens) are not worth a stack trace in the logs."""
    for error in errors:
        if is_unexpected(error):
            logger.error("Unexpected error at %s", error.path, exc_info=error.original_error)
