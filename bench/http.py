"""The task list over HTTP: GraphQL against DRF under real servers, and a worker's memory over time.

    pip install -r bench/requirements.txt && python -m bench.http [--rounds 3] [--seconds 5] [--memory 10000]

Seeds a SQLite file as bench.run does (one user, 100 tasks), then starts gunicorn (2 sync workers)
and uvicorn (2 workers, project.asgi) on it in turn, with bench.settings (DRF beside the project).
16 connections (kept alive where the server allows it) from one asyncio client on the same machine send, round after round, (a)
`tasks(first: 100)` with every task field and `owner { username }` and the DRF list of the same
100 tasks, alternately, each for `--seconds`. Each figure is the median over the rounds of the
requests per second, and p50/p99 of every request's latency. The client shares the machine's
cores with the servers, as a load balancer in front of them would not: compare the rows with each
other, not with other machines.

Memory: gunicorn with 2 workers answers `--memory` requests of a mix (the list, one task, `me`,
`node`, a hidden task's NOT_FOUND, a document that does not validate, variables that change every
time), and each worker's resident memory is read from /proc after the first 100 and at the end.
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASE = Path(tempfile.mkdtemp(prefix="bench-http-")) / "bench.sqlite3"
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
os.environ["BENCH_DATABASE"] = str(DATABASE)
SERVER_ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "BENCH_DATABASE": str(DATABASE),
    # Every request spends from its viewer's budget; the bench sends far more than an hour's.
    "GRAPHQL_POINTS_PER_HOUR": "999999999",
    "WEB_CONCURRENCY": "2",
}
os.environ["GRAPHQL_POINTS_PER_HOUR"] = SERVER_ENV["GRAPHQL_POINTS_PER_HOUR"]

from bench.run import ME, ONE_TASK, TASK_LIST, access_tokens, seed  # noqa: E402  (sets Django up)
from schema.relay import to_global_id  # noqa: E402

CONNECTIONS = 16
ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(kind, port):
    commands = {
        "gunicorn": [sys.executable, "-m", "gunicorn", "project.wsgi:application", "--workers", "2",
                     "--bind", f"127.0.0.1:{port}"],
        "uvicorn": [sys.executable, "-m", "uvicorn", "project.asgi:application", "--workers", "2", "--lifespan",
                    "off", "--no-access-log", "--host", "127.0.0.1", "--port", str(port)],
    }  # fmt: skip
    log = open(DATABASE.parent / f"{kind}.log", "ab")  # noqa: SIM115 (the process holds it)
    process = subprocess.Popen(commands[kind], env=SERVER_ENV, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                time.sleep(2)  # every worker up, not only the first
                return process
        except OSError:
            assert process.poll() is None, (DATABASE.parent / f"{kind}.log").read_text()
            time.sleep(0.2)
    raise RuntimeError(f"{kind} did not start")


def stop(process):
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)


def request_bytes(method, path, headers, body=b""):
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{name}: {value}" for name, value in headers.items())]
    if body:
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def graphql_request(token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    return request_bytes("POST", "/graphql/", {"Authorization": f"Bearer {token}"}, body)


async def read_response(reader):
    """(status, body, whether the server closes the connection) of one HTTP/1.1 response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    closes = headers.get(b"connection", b"").lower() == b"close"
    if b"content-length" in headers:
        return status, await reader.readexactly(int(headers[b"content-length"])), closes
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body, closes
        body += chunk[:-2]


async def load(port, requests, seconds=None, total=None, check=None):
    """Send `requests` (cycled) over CONNECTIONS keep-alive connections for `seconds` or `total` requests;
    (requests per second, latencies in ms)."""
    latencies = []
    sent = itertools.count()
    cycle = itertools.cycle(requests)
    deadline = None if seconds is None else time.perf_counter() + seconds

    async def connection():
        # gunicorn's sync workers close every connection after one response (no keep-alive); the
        # time to connect again counts in the latency, as it does for a client of such a server.
        writer = None
        try:
            while (deadline is None or time.perf_counter() < deadline) and (total is None or next(sent) < total):
                started = time.perf_counter()
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(next(cycle))
                status, body, closes = await read_response(reader)
                latencies.append((time.perf_counter() - started) * 1000)
                if closes:
                    writer.close()
                    writer = None
                if check is not None:
                    check(status, body)
        finally:
            if writer is not None:
                writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONNECTIONS)))
    return len(latencies) / (time.perf_counter() - started), latencies


def answered(status, body):
    assert status == 200, body[:300]
    assert b'"errors"' not in body, body[:300]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def compare(kind, targets, rounds, seconds):
    port = free_port()
    server = start(kind, port)
    try:
        rates = {name: [] for name in targets}
        latencies = {name: [] for name in targets}
        for request in targets.values():  # warm up
            asyncio.run(load(port, [request], total=200, check=answered))
        for _ in range(rounds):
            for name, request in targets.items():
                rate, measured = asyncio.run(load(port, [request], seconds=seconds, check=answered))
                rates[name].append(rate)
                latencies[name] += measured
    finally:
        stop(server)
    figures = {}
    for name in targets:
        figures[name] = (
            statistics.median(rates[name]),
            percentile(latencies[name], 0.5),
            percentile(latencies[name], 0.99),
        )
        rate, p50, p99 = figures[name]
        print(f"  {kind:<8} {name:<28} {rate:7.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    return figures


def worker_memory(master_pid):
    """{worker pid: resident KiB} of the server's worker processes."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    memory = {}
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                memory[int(pid)] = int(line.split()[1])
    return memory


def memory_growth(token, task_pk, hidden_pk, total):
    port = free_port()
    server = start("gunicorn", port)

    def mixed():
        for index in itertools.count():
            yield from (
                graphql_request(token, TASK_LIST),
                graphql_request(token, ONE_TASK, {"id": to_global_id("Task", task_pk)}),
                graphql_request(token, ME),
                graphql_request(
                    token, "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id("Task", task_pk)}
                ),
                graphql_request(token, ONE_TASK, {"id": to_global_id("Task", hidden_pk)}),
                graphql_request(token, "{ me { notAField } }"),
                graphql_request(
                    token, "query($first: Int) { tasks(first: $first) { totalCount } }", {"first": index % 100}
                ),
            )

    requests = list(itertools.islice(mixed(), 7 * 50))
    try:
        asyncio.run(load(port, requests, total=100))
        after_100 = worker_memory(server.pid)
        asyncio.run(load(port, requests, total=total - 100))
        after_all = worker_memory(server.pid)
    finally:
        stop(server)
    print(f"  resident memory of each gunicorn worker after 100 and after {total} mixed requests:")
    for pid, start_kib in after_100.items():
        end_kib = after_all.get(pid)
        growth = f"{100 * (end_kib - start_kib) / start_kib:+.1f}%" if end_kib else "(worker gone)"
        print(f"    worker {pid}: {start_kib / 1024:6.1f} MiB -> {(end_kib or 0) / 1024:6.1f} MiB  {growth}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--memory", type=int, default=10_000, help="mixed requests of the memory row (0: none)")
    arguments = parser.parse_args()

    user, task = seed()
    from django.contrib.auth import get_user_model

    from tasks.models import Task

    other = get_user_model().objects.create_user("other", "other@example.com", "other password 12345")
    hidden = Task.objects.create(owner=other, title="Not yours")
    from django.test import Client

    # A login in this process: the servers share its database and settings.
    token, simple_jwt = access_tokens(Client(), user)
    targets = {
        "(a) GraphQL tasks(first: 100)": graphql_request(token, TASK_LIST),
        "(d) DRF list": request_bytes("GET", "/rest/tasks/", {"Authorization": f"Bearer {simple_jwt}"}),
    }
    print(f"{CONNECTIONS} connections, {arguments.rounds} rounds of {arguments.seconds:g} s per scenario")
    wsgi = compare("gunicorn", targets, arguments.rounds, arguments.seconds)
    asgi = compare("uvicorn", targets, arguments.rounds, arguments.seconds)
    graphql, rest = wsgi.values()
    print(f"  (a)/(d) over gunicorn            {graphql[0] / rest[0]:5.2f}   target >= 1.5, p99 below DRF's")
    print(f"  (a) uvicorn / (a) gunicorn       {next(iter(asgi.values()))[0] / graphql[0]:5.2f}   target >= 0.9")
    if arguments.memory:
        memory_growth(token, task.pk, hidden.pk, arguments.memory)


if __name__ == "__main__":
    main()
