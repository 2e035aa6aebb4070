"""The Channels consumer of the WebSocket at /graphql/ (project/asgi.py routes it).

Strawberry's GraphQLWSConsumer, refusing the handshake (HTTP 403) when:
- the Host is not in ALLOWED_HOSTS, as Django refuses an HTTP request's (a page whose name
  resolves to this server, DNS rebinding, would otherwise count as same-origin below);
- the Origin, when there is one, is neither the server's own (same host and port as Host) nor in
  CORS_ALLOWED_ORIGINS: browsers apply no CORS to WebSockets, so this is what stops another site
  from opening a socket in a visitor's name. Clients that are not browsers send no Origin;
- the client does not offer graphql-transport-ws (the legacy `graphql-ws` protocol is refused).

A frame larger than GRAPHQL_MAX_BODY_BYTES closes the socket with 1009, as a larger HTTP body
is refused with 413.
"""

import json
from datetime import timedelta

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from strawberry.channels import GraphQLWSConsumer
from strawberry.http.websocket_origin import normalize_origin
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET

from project import metrics
from schema.errors import BadRequest
from schema.schema import schema
from schema.sockets.context import MESSAGE_TOO_BIG, SocketContext
from schema.sockets.protocol import GraphQLTransportWS
from schema.views import decode_request_json


class GraphQLSocket(GraphQLWSConsumer):
    graphql_transport_ws_handler_class = GraphQLTransportWS
    # Events reach sockets through their process's hub (schema/sockets/hub.py), so a socket needs
    # no channel of its own: an alias that names no layer gives it none.
    channel_layer_alias = None

    def __init__(self):
        super().__init__(
            schema=schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=settings.GRAPHQL_WS_CONNECTION_INIT_TIMEOUT),
            max_subscriptions_per_connection=None,  # the handler's own limit: schema.sockets.protocol
        )
        self.closed = False
        self.context = None

    async def run(self, request, context=None, root_value=None):
        if not self._host_allowed() or GRAPHQL_TRANSPORT_WS_PROTOCOL not in self.scope.get("subprotocols", ()):
            return await self.reject_websocket(request)
        return await super().run(request)

    def _host_allowed(self):
        host = self.get_websocket_headers(self).get("host", "")
        domain, _ = split_domain_port(host)
        allowed = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed:
            allowed = [".localhost", "127.0.0.1", "[::1]"]  # as Django's HttpRequest.get_host
        return bool(domain) and validate_host(domain, allowed)

    def is_websocket_origin_allowed(self, request, origin):
        # Read on each handshake, as the CORS middleware reads it on each request.
        allowed = {normalize_origin(each) for each in settings.CORS_ALLOWED_ORIGINS}
        origin = normalize_origin(origin)
        return origin is not None and origin in allowed

    async def get_context(self, request, response):
        # Called once the socket is accepted.
        metrics.adjust(metrics.OPEN_WEBSOCKETS, +1)
        self.context = SocketContext(self)
        return self.context

    async def on_ws_connect(self, context):
        await context.authenticate()
        return UNSET  # connection_ack without a payload

    def decode_json(self, data):
        # A message is checked as an HTTP body is (nesting, text) and must be an object. Strawberry
        # closes the socket with 4400 for a message that is not JSON; anything else it cannot read
        # (a RecursionError, a list) would end its handler and leave the socket open and deaf.
        try:
            message = decode_request_json(data)
        except BadRequest as refused:
            raise json.JSONDecodeError(str(refused), data, 0) from None
        if not isinstance(message, dict):
            raise json.JSONDecodeError("A message of graphql-transport-ws is a JSON object.", data, 0)
        return message

    async def receive(self, text_data=None, bytes_data=None):
        limit = settings.GRAPHQL_MAX_BODY_BYTES
        size = len(text_data.encode()) if text_data is not None else len(bytes_data or b"")
        if size > limit:
            await self.close(code=MESSAGE_TOO_BIG, reason=f"Messages are at most {limit} bytes.")
            return
        await super().receive(text_data, bytes_data)

    async def send(self, text_data=None, bytes_data=None, close=False):
        # What an operation still sends once the socket is closing goes nowhere.
        if not self.closed:
            await super().send(text_data, bytes_data, close)

    async def close(self, code=None, reason=None):
        if not self.closed:
            self.closed = True
            await super().close(code=code, reason=reason)

    async def disconnect(self, code):
        self.closed = True
        await super().disconnect(code)
        if self.context is not None:
            self.context.closed()
            metrics.adjust(metrics.OPEN_WEBSOCKETS, -1)
