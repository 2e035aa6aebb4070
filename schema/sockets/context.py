"""What the resolvers of a socket's operations see as `info.context`: schema.context.Context's
counterpart for a WebSocket, with the same viewer, actor, meta and viewer_for.

The credential comes in connection_init's payload (`Authorization: Bearer <access>` or
`X-API-Key: <secret>`, names in any case) and is checked by accounts.authentication, as every HTTP
request's headers are. A socket lives long, and authorization uses the user as the database holds
them at the moment (docs/permissions.md), so the credential is checked again by the same code before
each subscription starts, and under the same rules for each event (the hub does it once per
event for every socket of the process): a role given or taken counts from the next event, and a
credential refused closes the socket with 4403 and the reason. Between events the hub's recheck
and the expiry timer close it.
"""

import asyncio

from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.authentication import ANONYMOUS, authenticate
from accounts.exceptions import Unauthenticated
from accounts.request_meta import RequestMeta
from project import metrics
from schema.sockets.hub import hub

# Close codes: graphql-ws's Forbidden, and the WebSocket protocol's (RFC 6455, section 7.4.1).
FORBIDDEN = 4403
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013


class SocketRefused(Exception):
    """The socket closes with `code` and `reason` instead of being acknowledged."""

    def __init__(self, code, reason):
        super().__init__(reason)
        self.code = code
        self.reason = reason


@database_sync_to_async
def _load_viewer(authorization, api_key, client_ip):
    viewer = authenticate(authorization, api_key, client_ip)
    if viewer.user is not None:
        # The rules run on the event loop, where the ORM may not: they read the codenames loaded here.
        viewer.user.get_all_permissions()
    return viewer


def _credential(connection_params):
    """(Authorization, X-API-Key) of connection_init's payload, whatever the case of their names."""
    params = {str(name).lower(): value for name, value in connection_params.items()}
    return tuple(None if params.get(name) is None else str(params[name]) for name in ("authorization", "x-api-key"))


def _request_meta(scope):
    """The upgrade request's RequestMeta, read from the ASGI scope as Django reads an HTTP request's META."""
    headers = {}
    for name, value in scope.get("headers", ()):
        name = name.decode("latin1").lower()
        headers[name] = f"{headers[name]},{value.decode('latin1')}" if name in headers else value.decode("latin1")
    meta = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    meta["REMOTE_ADDR"] = (scope.get("client") or ("",))[0]
    return RequestMeta.from_request(_Request(meta))


class _Request:
    def __init__(self, meta):
        self.META = meta


class SocketContext:
    def __init__(self, socket):
        self.socket = socket
        self.meta = _request_meta(socket.scope)
        self.connection_params = {}  # Strawberry sets connection_init's payload here
        self.viewer = ANONYMOUS
        self._expiry = None
        self._subscribed = None

    @property
    def actor(self):
        return self.viewer

    def viewer_for(self, info):
        """Inside an event, the viewer loaded for that event; otherwise the socket's."""
        return getattr(info.root_value, "viewer", None) or self.viewer

    async def authenticate(self):
        """Take connection_init's credential; SocketRefused when it is refused or its user has
        as many sockets open in this process as GRAPHQL_WS_MAX_SOCKETS_PER_USER allows."""
        viewer = await _load_viewer(*_credential(self.connection_params), self.meta.ip)
        if viewer.rejection:
            raise SocketRefused(FORBIDDEN, viewer.rejection)
        self.viewer = viewer
        if viewer.is_authenticated:
            if not hub().admit(self):
                self.viewer = ANONYMOUS
                raise SocketRefused(TRY_AGAIN_LATER, "Too many open sockets for this user.")
            self._expire_at(viewer)

    async def authenticate_again(self):
        """Before a subscription starts: the credential checked as for a new request, the viewer
        loaded afresh. False when it is refused (the socket is then closing)."""
        if not self.viewer.is_authenticated:
            return True
        viewer = await _load_viewer(*_credential(self.connection_params), self.meta.ip)
        if viewer.rejection:
            await self.refuse(viewer.rejection)
            return False
        self.viewer = viewer
        return True

    def expect_subscription(self):
        """A future done once the subscription about to start listens (see `listen`)."""
        self._subscribed = asyncio.get_running_loop().create_future()
        return self._subscribed

    async def listen(self, group, decode):
        """What `decode` (run once per message for the whole process, in the ORM's thread) makes of
        each message sent to a channel-layer group from now on, with the viewer to resolve it for,
        as the database holds them at that moment; ends when the socket's credential is refused."""
        async with hub().listening(self, group, decode) as deliveries:
            if self._subscribed is not None and not self._subscribed.done():
                self._subscribed.set_result(None)
            metrics.adjust(metrics.ACTIVE_SUBSCRIPTIONS, +1)
            try:
                while True:
                    delivery = await deliveries.get()
                    viewer = delivery.viewers[self]
                    if isinstance(viewer, str):
                        await self.refuse(viewer)
                        return
                    yield delivery.event, viewer
            finally:
                metrics.adjust(metrics.ACTIVE_SUBSCRIPTIONS, -1)

    def _expire_at(self, viewer):
        reason = Unauthenticated.API_KEY_INVALID if viewer.api_key else Unauthenticated.EXPIRED
        delay = (viewer.expires_at - timezone.now()).total_seconds()
        self._expiry = asyncio.get_running_loop().call_later(max(delay, 0), self._refuse_soon, reason)

    def _refuse_soon(self, reason):
        asyncio.ensure_future(self.refuse(reason))

    async def refuse(self, reason):
        """Close the socket: its credential is refused for `reason` (token_revoked...)."""
        await self.socket.close(code=FORBIDDEN, reason=reason)

    async def too_slow(self):
        await self.socket.close(code=TRY_AGAIN_LATER, reason="The client does not read its events fast enough.")

    def closed(self):
        if self._expiry is not None:
            self._expiry.cancel()
        hub().release(self)
