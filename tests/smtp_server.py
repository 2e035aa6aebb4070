"""A real SMTP server for tests: aiosmtpd on a free loopback port, keeping what it receives."""

import asyncio
import logging
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

# aiosmtpd logs each connection at INFO from its own thread, which may outlive the test whose
# captured output it writes to ("Logging error ... I/O operation on closed file" in the run's log).
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """Start it, stop it (the port then refuses connections, as a mail server that is down
    does), start it again on the same port. `hold()` makes it wait in the middle of a
    conversation (after MAIL FROM, before accepting a recipient) until `release()`."""

    def __init__(self):
        self.port = free_port()
        self.messages = []
        self.received = threading.Condition()
        self.held = threading.Event()
        self.waiting = threading.Event()
        self.controller = None

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def hold(self):
        self.waiting.clear()
        self.held.set()

    def release(self):
        self.held.clear()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.held.is_set():
            self.waiting.set()
            while self.held.is_set():
                await asyncio.sleep(0.05)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.received:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.received.notify_all()
        return "250 Message accepted for delivery"

    def messages_to(self, address):
        return [message for message in self.messages if message["To"] == address]

    def wait_for(self, address, count=1, timeout=30):
        """The messages to `address` once there are `count` of them; AssertionError after `timeout` seconds."""
        with self.received:
            arrived = self.received.wait_for(lambda: len(self.messages_to(address)) >= count, timeout)
        assert arrived, f"no mail to {address} within {timeout} s (got {[m['To'] for m in self.messages]})"
        return self.messages_to(address)


def text_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()
