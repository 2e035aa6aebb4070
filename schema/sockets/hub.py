"""The open sockets of one server process, what they listen to, and the recheck of their credentials.

A process joins each channel-layer group it listens to once, whatever the number of its
subscriptions, and hands every message to its listeners through in-memory queues: Redis (with
REDIS_URL) carries one copy of an event per process, and its group holds one member per process,
which the hub renews well before the layer's group expiry.

Revocation reaches open sockets without a query per socket: every GRAPHQL_WS_RECHECK_SECONDS the
hub rechecks the credentials of all its authenticated sockets at once (accounts.open_credentials,
one query for sessions and one for API keys) and closes those that would now be refused. That
covers every way a credential ends (a mutation, the admin, a shell, an UPDATE, in any process,
with or without Redis); each socket's own timer closes it when its token or key expires.

There is one hub per event loop (a server process has one; each test has its own). Its tasks run
while it has sockets and stop with the last one.
"""

import asyncio
import logging
import weakref
from collections import Counter, defaultdict
from contextlib import asynccontextmanager, suppress

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from accounts import open_credentials

logger = logging.getLogger("schema.sockets")

# Events one subscription may have waiting; past that it is too slow to follow (see Listener).
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


class Listener:
    """One subscription's queue of a group's messages. A subscription whose socket cannot take
    its events as fast as they come (a stalled client) closes its socket rather than let its
    backlog grow without end; the client reconnects and reads what it missed."""

    def __init__(self, socket):
        self.socket = socket
        self.messages = asyncio.Queue(maxsize=BACKLOG)

    def put(self, message):
        try:
            self.messages.put_nowait(message)
        except asyncio.QueueFull:
            asyncio.ensure_future(self.socket.too_slow())


class Hub:
    def __init__(self):
        self.sockets = set()
        self.sockets_per_user = Counter()
        self.listeners = defaultdict(set)
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
        self.sockets_per_user.clear()

    @asynccontextmanager
    async def listening(self, socket, group):
        """A queue of the messages of `group` for one subscription of `socket`, receiving from the
        moment this returns (the process is a member of the group by then) until the block ends."""
        if group not in self.groups:
            self.joined[group] = asyncio.get_running_loop().create_future()
            self.groups[group] = asyncio.ensure_future(self._receive(group, self.joined[group]))
        await asyncio.shield(self.joined[group])
        listener = Listener(socket)
        self.listeners[group].add(listener)
        try:
            yield listener.messages
        finally:
            self.listeners[group].discard(listener)

    async def _receive(self, group, joined):
        """Join `group` and hand its messages to its listeners, joining again after a lost connection
        (what was sent meanwhile is lost: channel layers deliver at most once)."""
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
                    await self._hand_out(layer, group, channel)
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

    async def _hand_out(self, layer, group, channel):
        while True:
            message = await layer.receive(channel)
            for listener in list(self.listeners[group]):
                listener.put(message)

    async def _stay_in(self, layer, group, channel):
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await layer.group_add(group, channel)

    async def _recheck_credentials(self):
        while True:
            await asyncio.sleep(settings.GRAPHQL_WS_RECHECK_SECONDS)
            sockets = list(self.sockets)
            try:
                refused = await database_sync_to_async(open_credentials.refusals)([s.viewer for s in sockets])
            except Exception:
                # The next round tries again; meanwhile every event still authenticates its viewer.
                logger.exception("Could not recheck the credentials of open sockets")
                continue
            for socket in sockets:
                reason = refused.get(socket.viewer)
                if reason:
                    await socket.refuse(reason)
