import json
import logging
from operator import attrgetter

import orjson
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from strawberry.django.views import GraphQLView as StrawberryGraphQLView
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from accounts.budget import current as current_budget
from schema.context import Context
from schema.errors import BadRequest, shape_left_over_errors
from schema.operation_metrics import count_unmeasured_requests
from schema.persisted import ID_FIELDS, PersistedDocumentRefusal, requested_document
from schema.schema import schema

logger = logging.getLogger(__name__)

# GraphiQL (schema/templates/graphql/graphiql.html, built from schema/graphiql/) loads its
# scripts, styles and editor workers from this server's static files and talks only to this
# endpoint, so the browser may refuse everything else. Monaco writes its theme into <style>
# elements at run time, which needs 'unsafe-inline' for styles (never for scripts), and
# GraphiQL's stylesheet embeds its fonts and icons as data: URLs.
GRAPHIQL_CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "worker-src 'self'",
        "connect-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


NO_SUBSCRIPTIONS_OVER_HTTP = (
    "Subscriptions run over the WebSocket at /graphql/ (subprotocol graphql-transport-ws), not by POST or GET."
)


class QueriesAndMutationsOnly:
    """The schema as the HTTP view sees it: no operation it executes is a subscription.

    Strawberry lets POST and GET carry subscriptions for its multipart protocol, which only its
    async views serve. Through this sync view graphql-core would start the subscription's event
    stream, and Strawberry, finding the result unfinished, would answer an error without a code and
    schedule the stream's cancellation on an event loop that never runs, leaving its coroutines to
    the garbage collector. Refused before anything runs, it is HTTP 400 like a mutation sent by GET.
    """

    def __init__(self, schema):
        self.schema = schema
        self.config = schema.config

    def execute_sync(self, query, *, allowed_operation_types, **kwargs):
        allowed = set(allowed_operation_types) - {OperationType.SUBSCRIPTION}
        try:
            return self.schema.execute_sync(query, allowed_operation_types=allowed, **kwargs)
        except InvalidOperationTypeError as refused:
            if refused.operation_type is OperationType.SUBSCRIPTION:
                raise BadRequest(NO_SUBSCRIPTIONS_OVER_HTTP) from None
            raise


# Credentials travel in headers; the one cookie the API reads, the refresh cookie, is read by
# refreshToken and revokeToken only, behind a proof of their own (accounts.cookies: a JSON POST
# from an allowed Origin). A cross-site form cannot send application/json (Strawberry runs
# nothing for any other content type), so Django's CSRF token has nothing to add here.
@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(count_unmeasured_requests, name="dispatch")
class GraphQLView(StrawberryGraphQLView):
    """Strawberry's view, refusing oversized and malformed bodies with a 4xx, never a 5xx.

    GET runs queries only (Strawberry refuses other operations over GET), POST queries and
    mutations; batching is off because the schema has no batching config.
    """

    def __init__(self, **kwargs):
        super().__init__(schema=QueriesAndMutationsOnly(schema), **kwargs)

    def dispatch(self, request, *args, **kwargs):
        self.graphql_ide = "graphiql" if settings.GRAPHIQL else None
        self.context = None
        response = self.answer(request, *args, **kwargs)
        try:
            budget = self.budget(request)
        except Exception:  # noqa: BLE001 - the answer is made; it goes out without the headers
            # The budget's store is unreachable: the operation was already answered with an
            # INTERNAL_SERVER_ERROR (or refused before it ran), which beats Django's error page.
            logger.exception("No X-RateLimit-* headers: the budget could not be read")
        else:
            _add_rate_limit_headers(response, budget)
        return response

    def answer(self, request, *args, **kwargs):
        if _declared_length(request) > settings.GRAPHQL_MAX_BODY_BYTES:
            return HttpResponse(
                f"The request body is larger than {settings.GRAPHQL_MAX_BODY_BYTES} bytes.",
                status=413,
                content_type="text/plain",
            )
        try:
            return super().dispatch(request, *args, **kwargs)
        except BadRequest as refusal:
            return HttpResponse(str(refusal), status=refusal.status, content_type="text/plain")
        except PersistedDocumentRefusal as refusal:
            return JsonResponse(refusal.as_response_data(), status=refusal.status)

    def budget(self, request):
        """The viewer's budget after this request: as its operation was charged, or as it stands."""
        context = self.context or Context(request=request, response=None)
        if context.rate_limit is not None:
            return context.rate_limit.budget
        return current_budget(context.budget_holder())

    def render_graphql_ide(self, request):
        response = super().render_graphql_ide(request)
        response["Content-Security-Policy"] = GRAPHIQL_CONTENT_SECURITY_POLICY
        return response

    def should_render_graphql_ide(self, request):
        # A GET naming a persisted document has no `query` either, and is not a browser's.
        # Strawberry's own test first: it is false for every POST, without reading the query string.
        if not super().should_render_graphql_ide(request):
            return False
        return not any(name in request.query_params for name in ("extensions", *ID_FIELDS))

    def process_result(self, request, result):
        shape_left_over_errors(result)
        return super().process_result(request, result)

    def encode_json(self, data):
        # An answer holds only what GraphQL's scalars serialized: strings, numbers, booleans, null.
        # A string the database returned with half a surrogate pair is no UTF-8: json escapes it.
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return super().encode_json(data)

    def get_context(self, request, response):
        self.context = Context(request=request, response=response)
        return self.context

    def parse_json(self, data):
        value = decode_request_json(data)
        # A POST body's object, where the ids of persisted documents are read (parse_http_body).
        self.decoded_json = value
        return value

    def parse_http_body(self, request):
        try:
            data = super().parse_http_body(request)
        except UnicodeDecodeError:
            raise BadRequest("The request body is not UTF-8.") from None
        if not isinstance(data.operation_name, (str, type(None))):
            raise BadRequest("The GraphQL operation's `operationName` must be a string or null, if provided.")
        # Strawberry reads only query, variables, operationName and extensions from the request:
        # `documentId` and `doc_id` are read here, and the document they name becomes the query.
        fields = request.query_params if request.method == "GET" else self.decoded_json
        requested = requested_document(data.query, data.extensions, fields)
        data.query = requested.text
        self.context.register_document_as = requested.register_as
        return data


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": attrgetter("limit"),
    "X-RateLimit-Remaining": attrgetter("remaining"),
    "X-RateLimit-Used": attrgetter("used"),
    "X-RateLimit-Reset": attrgetter("reset_at"),
}


def _add_rate_limit_headers(response, budget):
    for header, value in RATE_LIMIT_HEADERS.items():
        response[header] = str(value(budget))


def _declared_length(request):
    """The Content-Length the client sent; Django reads no more than this from the body."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# Request JSON (a body, or GET's `variables` or `extensions`) nests at most this many objects and
# lists, the outermost counting as 1. Variables of this schema need a handful; the limit keeps
# every later walk over them (graphql-core's coercion, error messages) far from Python's
# recursion limit, which the decoder itself reaches at about 940 levels.
MAX_JSON_DEPTH = 64
TOO_DEEP = f"The request JSON is nested deeper than {MAX_JSON_DEPTH} levels."
LONE_SURROGATE = "The request holds a lone surrogate escape, which is not text."


def decode_request_json(data):
    """The JSON object (or list) of a request body or a WebSocket message; BadRequest (HTTP 400) when
    it is not JSON, not an object or a list, nested deeper than MAX_JSON_DEPTH or not text."""
    try:
        value = json.loads(data)
    except RecursionError:
        # Deeper than the decoder follows, so far deeper than the limit below.
        raise BadRequest(TOO_DEEP) from None
    except ValueError:
        # Not JSON, or not UTF-8.
        raise BadRequest("Unable to parse request body as JSON") from None
    if not isinstance(value, (dict, list)):
        raise BadRequest("The request must be a JSON object.")
    _check_depth_and_text(value)
    return value


def _check_depth_and_text(value):
    """Refuse JSON nested deeper than MAX_JSON_DEPTH or holding half a surrogate pair.

    JSON may escape half of a surrogate pair ("\\ud800"); no text encoding, and so no hasher or
    database, accepts such a string, so it is refused here once rather than failing deep inside.
    One walk, a level at a time and without recursion, so no depth the decoder accepts can
    exhaust Python's stack; a 100 KB body costs it a few milliseconds at most.
    """
    level, depth = [value], 1
    while level:
        if depth > MAX_JSON_DEPTH:
            raise BadRequest(TOO_DEEP)
        deeper = []
        for container in level:
            # The decoder makes exact dicts, lists and strs; `type(...) is` keeps the walk cheap.
            if type(container) is dict:
                if container and not all(map(_is_text, container)):
                    raise BadRequest(LONE_SURROGATE)
                container = container.values()
            for item in container:
                kind = type(item)
                if kind is str:
                    if not _is_text(item):
                        raise BadRequest(LONE_SURROGATE)
                elif kind is dict or kind is list:
                    deeper.append(item)
        level, depth = deeper, depth + 1


def _is_text(string):
    if string.isascii():
        return True
    try:
        string.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
