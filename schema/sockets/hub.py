"""The open sockets of one server process, the groups they listen to, and the recheck of their
credentials.

A process joins each channel-layer group it listens to once, whatever the number of its
subscriptions (Redis, with REDIS_URL, carries one copy of an event per process, and the group
holds one member per process, renewed well before the layer's group expiry), and prepares each
message once for all its listeners: decoded (the task's owner read once, say), with the viewer
of every listening socket as the database holds them at that moment, users, sessions, keys and
codenames loaded in a handful of queries for all of them (accounts.open_credentials,
accounts.backends.load_codenames). A socket whose credential is now refused closes.

Between events, revocation reaches sockets the same way: every GRAPHQL_WS_RECHECK_SECONDS the
hub checks the credentials of all its authenticated sockets at once (one query for sessions,
one for API keys) and closes those that would now be refused. That covers every way a credential
ends (a mutation, the admin, a shell, an UPDATE, in any process, with or without Redis); each
socket's own timer closes it when its token or key expires.

There is one hub per event loop (a server process has one; each test has its own). Its tasks run
while it has sockets and stop with the last one.
"""

import asyncio
import logging
import weakref
from collections import Counter, defaultdict
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from accounts import open_credentials
from accounts.backends import load_codenames

logger = logging.getLogger("schema.sockets")

# Deliveries one subscription may have waiting; past that it is too slow to follow (see Listener).
BACKLOG = 100
# Group memberships expire after the channel layer's group_expiry (a day by default).
REJOIN_SECONDS = 3600

_hubs = weakref.WeakKeyDictionary()


def hub():
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        _hubs[loop] = Hub()
    return _hubs[loop]


@dataclass(frozen=True)
class Delivery:
    """One message of a group, as this process hands it to its listeners."""

    event: object  # what the group's decoder made of the message
    viewers: dict  # listening socket → its Viewer as of now, or the reason its credential is refused


class Listener:
    """One subscription's queue of deliveries. A subscription whose socket cannot take its events
    as fast as they come (a stalled client) closes its socket rather than let its backlog grow
    without end; the client reconnects and reads what it missed."""

    def __init__(self, socket):
        self.socket = socket
        self.deliveries = asyncio.Queue(maxsize=BACKLOG)

    def put(self, delivery):
        try:
            self.deliveries.put_nowait(delivery)
        except asyncio.QueueFull:
            asyncio.ensure_future(self.socket.too_slow())


class Hub:
    def __init__(self):
        self.sockets = set()
        self.sockets_per_user = Counter()
        self.listeners = defaultdict(set)
        self.decoders = {}  # group name → how its messages are read
        self.groups = {}  # group name → the task receiving its messages
        self.joined = {}  # group name → future: this process is a member of the group
        self.recheck = None

    def admit(self, socket):
        """Count an authenticated socket in; False when its user already has the most allowed."""
        user_id = socket.viewer.user.pk
        if self.sockets_per_user[user_id] >= settings.GRAPHQL_WS_MAX_SOCKETS_PER_USER:
            return False
        self.sockets.add(socket)
        self.sockets_per_user[user_id] += 1
        if self.recheck is None:
            self.recheck = asyncio.ensure_future(self._recheck_credentials())
        return True

    def release(self, socket):
        if socket not in self.sockets:
            return
        self.sockets.discard(socket)
        self.sockets_per_user[socket.viewer.user.pk] -= 1
        if not self.sockets:
            self._stop()

    def _stop(self):
        for task in (self.recheck, *self.groups.values()):
            if task is not None:
                task.cancel()
        self.recheck = None
        self.groups.clear()
        self.joined.clear()

    @asynccontextmanager
    async def listening(self, socket, group, decode):
        """A queue of the Deliveries of `group` for one subscription of `socket`, from the moment
        this returns (the process is a member of the group by then) until the block ends.
        `decode(message)` reads a message of the group, in the ORM's thread."""
        self.decoders[group] = decode
        if group not in self.groups:
            self.joined[group] = asyncio.get_running_loop().create_future()
            self.groups[group] = asyncio.ensure_future(self._receive(group, self.joined[group]))
        await asyncio.shield(self.joined[group])
        listener = Listener(socket)
        self.listeners[group].add(listener)
        try:
            yield listener.deliveries
        finally:
            self.listeners[group].discard(listener)

    async def _receive(self, group, joined):
        """Join `group` and hand out its messages, joining again after a lost connection (what
        was sent meanwhile is lost: channel layers deliver at most once)."""
        layer = get_channel_layer()
        while True:
            channel = None
            try:
                channel = await layer.new_channel()
                await layer.group_add(group, channel)
                if not joined.done():
                    joined.set_result(None)
                stay = asyncio.ensure_future(self._stay_in(layer, group, channel))
                try:
                    while True:
                        message = await layer.receive(channel)
                        try:
                            await self._hand_out(group, message)
                        except Exception:
                            # Its subscribers cannot be authorized (the database is down, say): they miss it.
                            logger.exception("Could not hand out a message of %s", group)
                finally:
                    stay.cancel()
            except Exception as error:
                if not joined.done():
                    # The subscription that asked gets the error; the next one tries again.
                    joined.set_exception(error)
                    self.groups.pop(group, None)
                    self.joined.pop(group, None)
                    return
                logger.exception("Lost the channel layer; joining %s again", group)
                await asyncio.sleep(1)
            finally:
                if channel is not None:
                    with suppress(Exception):
                        await layer.group_discard(group, channel)

    async def _stay_in(self, layer, group, channel):
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            try:
                await layer.group_add(group, channel)
            except Exception:
                logger.exception("Could not renew this process's membership of %s", group)

    async def _hand_out(self, group, message):
        listeners = list(self.listeners[group])
        if not listeners:
            return
        viewers = {listener.socket: listener.socket.viewer for listener in listeners}
        delivery = await database_sync_to_async(self._prepare)(self.decoders[group], message, viewers)
        for listener in listeners:
            listener.put(delivery)

    @staticmethod
    def _prepare(decode, message, viewers):
        now = open_credentials.current(set(viewers.values()))
        load_codenames({viewer.user for viewer in now.values() if getattr(viewer, "user", None) is not None})
        return Delivery(decode(message), {socket: now[viewer] for socket, viewer in viewers.items()})

    async def _recheck_credentials(self):
        while True:
            await asyncio.sleep(settings.GRAPHQL_WS_RECHECK_SECONDS)
            viewers = {socket: socket.viewer for socket in self.sockets}
            try:
                now = await database_sync_to_async(open_credentials.current)(set(viewers.values()))
            except Exception:
                # The next round tries again; meanwhile each event still checks its viewers.
                logger.exception("Could not recheck the credentials of open sockets")
                continue
            refused = [socket.refuse(now[viewer]) for socket, viewer in viewers.items() if isinstance(now[viewer], str)]
            await asyncio.gather(*refused)
