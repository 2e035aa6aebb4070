"""graphql-transport-ws as this server speaks it: Strawberry's handler, for subscriptions only.

- connection_init authenticates the payload's credential (SocketContext.authenticate): refused,
  the socket closes with 4403 and the reason (`token_expired`...), or with 1013 when the user
  has too many sockets open; without a credential the socket is anonymous.
- subscribe: a query or a mutation gets an `error` message (they go by POST); past
  GRAPHQL_WS_MAX_SUBSCRIPTIONS active subscriptions, an `error` with GRAPHQL_VALIDATION_FAILED.
  The document is its text or a persisted document named by id, under the rules of HTTP
  (schema.persisted: trusted-only mode included). The credential is checked again first, so a
  subscription starts for the user as they are now.
- A subscribe is handled to the end before the socket's next message: once the server answers a
  later message (a `ping`, say), the subscription hears every change committed from then on.
"""

import asyncio
from contextlib import aclosing

from channels.db import database_sync_to_async
from django.conf import settings
from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.types.execution import ExecutionResult, PreExecutionError

from schema.errors import BAD_USER_INPUT, GRAPHQL_VALIDATION_FAILED, BadRequest, format_error, log_unexpected_errors
from schema.persisted import PersistedDocumentRefusal, requested_document
from schema.sockets.context import SocketRefused

# How long a subscribe may take to start listening before the socket's next message is read.
START_TIMEOUT = 10
NO_DOCUMENT = "Send the subscription's document as `query`, or a persisted document's id as `documentId`."


class SubscriptionsOnly:
    """The schema as the handler sees it: every operation it streams must be a subscription, and a
    failure outside every field is answered like one inside a field."""

    def __init__(self, schema):
        self.schema = schema

    async def stream(self, *args, **kwargs):
        return _failure_answered(await self.schema.subscribe(*args, **kwargs))


async def _failure_answered(results):
    """The subscription's results; if one fails to come (an extension's hook or the event source
    raised: the database or the channel layer unreachable, say), an INTERNAL_SERVER_ERROR after
    them. Strawberry's handler would log it and send a bare `complete`, which the client cannot
    tell from a subscription that ended; this way it is the `error` message, or a last `next`."""
    started = False
    async with aclosing(results):
        try:
            async for result in results:
                yield result
                started = True
        except Exception as failure:  # noqa: BLE001 - answered and logged as unexpected
            error = GraphQLError(str(failure), original_error=failure)
            log_unexpected_errors([error])
            answer = ExecutionResult if started else PreExecutionError
            yield answer(data=None, errors=[format_error(error)])


class GraphQLTransportWS(BaseGraphQLTransportWSHandler):
    def __init__(self, *args, schema, **kwargs):
        super().__init__(*args, schema=SubscriptionsOnly(schema), **kwargs)

    async def handle_connection_init(self, message):
        try:
            await super().handle_connection_init(message)
        except SocketRefused as refused:  # from the consumer's on_ws_connect
            await self.websocket.close(code=refused.code, reason=str(refused))

    async def handle_subscribe(self, message):
        operation_id = message["id"]
        if not self.connection_acknowledged or operation_id in self.operations:
            await super().handle_subscribe(message)  # closes the socket, as the protocol says
            return
        payload = message["payload"]
        if not (
            isinstance(payload, dict)
            and isinstance(payload.get("query"), (str, type(None)))
            and isinstance(payload.get("extensions") or {}, dict)
        ):
            await self.handle_invalid_message("A subscribe message's payload is an object, its query text.")
            return
        limit = settings.GRAPHQL_WS_MAX_SUBSCRIPTIONS
        if len(self.operations) >= limit:
            refusal = f"A socket holds at most {limit} subscriptions; complete one before starting another."
            await self.refuse(operation_id, refusal, GRAPHQL_VALIDATION_FAILED)
            return
        try:
            # Named by its text, or by the id of a persisted document (schema.persisted, which may
            # read the database), as over HTTP. An APQ registration (a hash with its text) runs the
            # text; documents are stored over HTTP.
            requested = await database_sync_to_async(requested_document)(
                payload.get("query"), payload.get("extensions"), payload
            )
            query = requested.text
        except PersistedDocumentRefusal as refused:
            await self.refuse(operation_id, refused.message, refused.code)
            return
        except BadRequest as refused:
            await self.refuse(operation_id, str(refused), BAD_USER_INPUT)
            return
        if query is None:
            await self.refuse(operation_id, NO_DOCUMENT, GRAPHQL_VALIDATION_FAILED)
            return
        if not await self.context.authenticate_again():
            return
        subscribed = self.context.expect_subscription()
        await super().handle_subscribe({**message, "payload": {**payload, "query": query}})
        operation = self.operations.get(operation_id)
        if operation is not None:
            started = {operation.task, subscribed}
            await asyncio.wait(started, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)

    async def refuse(self, operation_id, message, code):
        error = GraphQLError(message, extensions={"code": code})
        await self.send_message({"id": operation_id, "type": "error", "payload": [error.formatted]})
