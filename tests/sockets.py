"""WebSocket clients for the tests of subscriptions (graphql-transport-ws, docs/subscriptions.md).

- Socket: Channels' WebsocketCommunicator around project.asgi, inside the test's process. A test
  runs its whole scenario with `run(scenario)`: one event loop, and database work (the server's
  and the test's own, through `orm(...)`) on the test's thread, inside the test's transaction.
- LiveSocket: the `websockets` client against a real server (tests.live_server.UvicornServer).

Both speak the same few verbs: init, subscribe (which returns once the subscription listens:
the server answers a later ping only after that), send, receive, closed.
"""

import asyncio
import json

import websockets
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator

PROTOCOL = "graphql-transport-ws"
# How long a test waits for what must come: generous, since a loaded machine is slow; a failing
# test waits this long once. It asserts nothing about speed (bench/subscriptions.py measures).
WAIT = 15

TASK_EVENTS = """
subscription TaskEvents {
  taskEvents { kind deletedId task { id title completed owner { username email } } }
}
"""


def run(scenario, *args):
    async_to_sync(scenario)(*args)


def orm(function, *args, **kwargs):
    """Run the test's own database work from inside a scenario."""
    return sync_to_async(function)(*args, **kwargs)


class Closed(Exception):
    def __init__(self, code, reason):
        super().__init__(f"closed with {code} {reason!r}")
        self.code = code
        self.reason = reason


class Verbs:
    """The protocol's messages, over whichever transport (`send_json`, `receive_json`)."""

    async def init(self, payload=None):
        """Send connection_init; the connection_ack, or Closed."""
        await self.send({"type": "connection_init", **({} if payload is None else {"payload": payload})})
        return await self.receive()

    async def subscribe(self, query=TASK_EVENTS, id="1", variables=None, operation_name=None, payload=None):
        """Subscribe (with `payload` as it is, when given); once the server has handled it (it
        answers a ping sent after it), the messages it sent meanwhile (an `error`, say)."""
        if payload is None:
            payload = {"query": query, "variables": variables or {}, "operationName": operation_name}
        await self.send({"type": "subscribe", "id": id, "payload": payload})
        await self.send({"type": "ping"})
        answers = []
        while True:
            message = await self.receive()
            if message["type"] == "pong":
                return answers
            answers.append(message)

    async def send(self, message):
        await self.send_json(message)

    async def receive(self):
        """The next message; Closed when the server closes the socket instead."""
        return await self.receive_json()

    async def closed(self):
        """The Closed the server ends with (failing if a message comes first)."""
        try:
            message = await self.receive()
        except Closed as closed:
            return closed
        raise AssertionError(f"expected the socket to close, got {message}")


class Socket(Verbs):
    def __init__(self, host="testserver", origin=None, subprotocols=(PROTOCOL,), path="/graphql/"):
        from project.asgi import application

        headers = [(b"host", host.encode())] + ([(b"origin", origin.encode())] if origin else [])
        self.communicator = WebsocketCommunicator(application, path, headers=headers, subprotocols=list(subprotocols))
        self.finished = False

    async def connect(self):
        """(accepted, subprotocol) or (False, close code)."""
        return await self.communicator.connect(timeout=WAIT)

    async def __aenter__(self):
        accepted, detail = await self.connect()
        assert accepted, f"refused: {detail}"
        return self

    async def __aexit__(self, *exc_info):
        await self.disconnect()

    async def disconnect(self):
        """As a server does once the socket is closed, by either end or by refusing the handshake."""
        if not self.finished:
            self.finished = True
            await self.communicator.disconnect(timeout=WAIT)

    async def send_json(self, message):
        await self.communicator.send_json_to(message)

    async def send_text(self, text):
        await self.communicator.send_to(text_data=text)

    async def receive_json(self):
        output = await self.communicator.receive_output(timeout=WAIT)
        if output["type"] == "websocket.close":
            # A real server answers the close handshake with a disconnect; so does this test client.
            await self.disconnect()
            raise Closed(output.get("code", 1000), output.get("reason", ""))
        return json.loads(output["text"])

    async def nothing_pending(self):
        return await self.communicator.receive_nothing(timeout=0.1)


class LiveSocket(Verbs):
    def __init__(self, server, origin=None, subprotocols=(PROTOCOL,)):
        self.url = server.ws_url
        self.origin = origin
        self.subprotocols = list(subprotocols)

    async def __aenter__(self):
        self.connection = await websockets.connect(
            self.url, subprotocols=self.subprotocols, origin=self.origin, open_timeout=WAIT
        )
        return self

    async def __aexit__(self, *exc_info):
        await self.connection.close()

    async def send_json(self, message):
        await self.connection.send(json.dumps(message))

    async def receive_json(self):
        try:
            return json.loads(await asyncio.wait_for(self.connection.recv(), WAIT))
        except websockets.ConnectionClosed as closed:
            raise Closed(closed.rcvd.code if closed.rcvd else 1006, closed.rcvd.reason if closed.rcvd else "") from None
