"""The budget holds across processes: gunicorn workers, and servers sharing one Redis.

Requests from one client address, sent at once on fresh connections so that several workers
answer, spend exactly the budget: never a point more, whichever process counted them.
"""

import json
import os
import secrets
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live_server import GunicornServer
from tests.test_multiprocess import Server

pytestmark = pytest.mark.slow

POINTS = 30
BATCH = 12
RATE_LIMIT = "{ rateLimit { used remaining } }"
ENVIRONMENT = {"GRAPHQL_POINTS_PER_HOUR": str(POINTS), "TRUSTED_PROXY_COUNT": "1"}


def post(server, client_ip):
    body = json.dumps({"query": RATE_LIMIT}).encode()
    headers = {"Content-Type": "application/json", "X-Forwarded-For": client_ip}
    request = urllib.request.Request(server.url, data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response), int(response.headers["X-RateLimit-Used"])


def a_fresh_address():
    """A /64 (the unit budgets of IPv6 clients are counted by) that no earlier run has spent from:
    in a shared Redis the servers' counters outlive them, and are not deleted, since a server of
    another test may be counting there at the same time."""
    return f"2001:db8:{secrets.token_hex(2)}:{secrets.token_hex(2)}::1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("budget")
    server = Server(folder, workers=2, REDIS_URL=os.environ.get("REDIS_URL", ""), **ENVIRONMENT)
    yield server.start()
    server.stop()


def test_concurrent_operations_on_two_workers_spend_exactly_the_budget(server):
    client_ip = a_fresh_address()
    answers, workers = [], set()
    # Batches at once until both workers have answered and more was asked than the budget holds.
    for _ in range(10):
        served_before = server.served_by()
        with ThreadPoolExecutor(max_workers=BATCH) as pool:
            answers += pool.map(lambda _: post(server, client_ip), range(BATCH))
        workers.update(server.served_by()[len(served_before) :])
        if len(workers) == 2 and len(answers) > POINTS:
            break
    assert len(workers) == 2, "both workers should have answered"

    spent = sorted(body["data"]["rateLimit"]["used"] for body, _ in answers if body.get("data"))
    refused = [body["errors"][0]["extensions"]["code"] for body, _ in answers if body.get("errors")]
    assert spent == list(range(1, POINTS + 1))
    assert refused == ["RATE_LIMITED"] * (len(answers) - POINTS)
    assert all(used <= POINTS for _, used in answers)
    assert post(server, client_ip)[1] == POINTS


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="two servers share a budget through Redis (REDIS_URL)")
def test_two_servers_sharing_redis_share_the_budget(server, tmp_path):
    other = GunicornServer(tmp_path, REDIS_URL=os.environ["REDIS_URL"], **ENVIRONMENT).start()
    try:
        client_ip = a_fresh_address()
        for index in range(POINTS):
            body, used = post(server if index % 2 else other, client_ip)
            assert used == index + 1
        for each in (server, other):
            body, used = post(each, client_ip)
            assert (body["errors"][0]["extensions"]["code"], used) == ("RATE_LIMITED", POINTS)
    finally:
        other.stop()
