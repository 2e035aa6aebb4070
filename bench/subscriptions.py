"""Subscriptions under load: fan-out latency, memory per idle socket, the credential recheck.

    python -m bench.subscriptions [--subscribers 1 100 1000] [--events 20]   # REDIS_URL=... to use Redis

Starts one uvicorn worker serving project.asgi (production settings, a fresh SQLite file, Redis
as the channel layer when REDIS_URL is set) and opens real sockets to it with the `websockets`
client, each as a different user holding tasks.view_task, so every subscriber hears every
change. The client runs on the same machine: its own work is part of the figures.

- Fan-out latency: from a task's save (its createdAt, the server's clock, which is this machine's)
  to the moment each subscriber has read the event; p50 and p99 over every subscriber and event,
  events sent one at a time, each once the previous one has reached every subscriber.
- Memory per idle socket: the server's resident memory after opening the sockets (each with
  one subscription) minus before, divided by their number.
- The recheck: the server's CPU time per second while the sockets sit idle (GRAPHQL_WS_RECHECK_SECONDS
  apart it rechecks all of them in one query), and how long revoked sockets take to close.
"""

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import websockets

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from tests.live_server import UvicornServer  # noqa: E402

PROTOCOL = "graphql-transport-ws"
SUBSCRIPTION = "subscription { taskEvents { kind task { title createdAt } } }"
CREATE = "mutation ($title: String!) { createTask(input: {title: $title}) { id } }"

SEED = """
import json
from django.contrib.auth.models import Permission
from accounts.models import User
from accounts.sessions import start_session
users = [User(username="reader%d" % n, email="reader%d@example.com" % n, password="!") for n in range(COUNT)]
for user in users:
    user.sync_canonical_username()
User.objects.bulk_create(users)
view_task = Permission.objects.get(codename="view_task")
readers = list(User.objects.filter(username__startswith="reader").order_by("pk"))
User.user_permissions.through.objects.bulk_create(
    [User.user_permissions.through(user_id=user.pk, permission_id=view_task.pk) for user in readers]
)
writer = User.objects.create(username="writer", email="writer@example.com", password="!")
print(json.dumps({"readers": [start_session(user).access for user in readers], "writer": start_session(writer).access}))
"""


def seed(server, count):
    """`count` readers holding tasks.view_task and a writer; their access tokens."""
    server.migrate()
    output = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SEED.replace("COUNT", str(count))],
        env=server.env, cwd=settings.BASE_DIR, capture_output=True, text=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


class Subscriber:
    def __init__(self, server, access):
        self.server = server
        self.access = access
        self.received = []  # (title, seconds from the task's save)
        self.arrived = asyncio.Event()
        self.closed_at = None

    async def open(self):
        self.socket = await websockets.connect(self.server.ws_url, subprotocols=[PROTOCOL], open_timeout=60)
        credential = {"Authorization": f"Bearer {self.access}"}
        await self.socket.send(json.dumps({"type": "connection_init", "payload": credential}))
        assert json.loads(await self.socket.recv())["type"] == "connection_ack"
        await self.socket.send(json.dumps({"type": "subscribe", "id": "1", "payload": {"query": SUBSCRIPTION}}))
        await self.socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await self.socket.recv())["type"] == "pong"  # the subscription listens
        self.reader = asyncio.ensure_future(self.read())

    async def read(self):
        try:
            async for frame in self.socket:
                now = time.time()
                message = json.loads(frame)
                if message["type"] == "next":
                    task = message["payload"]["data"]["taskEvents"]["task"]
                    self.received.append((task["title"], now - datetime.fromisoformat(task["createdAt"]).timestamp()))
                    self.arrived.set()
        except websockets.ConnectionClosed:
            pass
        self.closed_at = time.time()


def resident_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def open_all(subscribers, at_once=50):
    for start in range(0, len(subscribers), at_once):
        await asyncio.gather(*(subscriber.open() for subscriber in subscribers[start : start + at_once]))


async def fan_out(server, writer, subscribers, events):
    latencies = []
    for number in range(events):
        for subscriber in subscribers:
            subscriber.arrived.clear()
        title = f"{len(subscribers)}: {number}"
        await asyncio.to_thread(server.post, CREATE, {"title": title}, token=writer)
        await asyncio.wait_for(asyncio.gather(*(subscriber.arrived.wait() for subscriber in subscribers)), 120)
        latencies += [latency for subscriber in subscribers for seen, latency in subscriber.received if seen == title]
    return latencies


async def measure(server, tokens, sizes, events):
    pid = server.process.pid
    results = {}
    opened = []
    baseline = resident_kib(pid)
    for size in sizes:
        more = [Subscriber(server, access) for access in tokens["readers"][len(opened) : size]]
        await open_all(more)
        opened += more
        await asyncio.sleep(1)
        memory = (resident_kib(pid) - baseline) / len(opened)
        latencies = await fan_out(server, tokens["writer"], opened, events)
        results[size] = {
            "p50_ms": round(statistics.median(latencies) * 1000, 1),
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
            "events": len(latencies),
            "memory_per_socket_kib": round(memory, 1),
        }
        print(f"{size} subscribers: {results[size]}", flush=True)
    idle = 20
    before = cpu_seconds(pid)
    await asyncio.sleep(idle)
    results["idle_cpu_percent"] = round((cpu_seconds(pid) - before) / idle * 100, 2)
    print(f"{len(opened)} idle sockets: {results['idle_cpu_percent']} % of one core", flush=True)
    revoke = "import time; from accounts.models import LoginSession; LoginSession.objects.revoke(); print(time.time())"
    revoked_at = float((await asyncio.to_thread(server.manage, "shell", "-c", revoke)).split()[-1])
    await asyncio.wait_for(asyncio.gather(*(subscriber.reader for subscriber in opened)), 60)
    closes = [subscriber.closed_at - revoked_at for subscriber in opened]
    results["revocation_to_close_s"] = {"p50": round(statistics.median(closes), 2), "max": round(max(closes), 2)}
    print(f"revocation of every session (a shell command) to close: {results['revocation_to_close_s']}", flush=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    sizes = sorted(args.subscribers)
    folder = Path(tempfile.mkdtemp(prefix="bench-subscriptions-"))
    server = UvicornServer(
        folder,
        REDIS_URL=os.environ.get("REDIS_URL", ""),
        GRAPHQL_WS_MAX_SOCKETS_PER_USER="1",
        LOG_LEVEL="WARNING",
    )
    tokens = seed(server, sizes[-1])
    server.start()
    try:
        print(json.dumps(asyncio.run(measure(server, tokens, sizes, args.events)), indent=2))
    finally:
        server.stop()


if __name__ == "__main__":
    main()
