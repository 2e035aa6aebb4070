"""The login rate limit and session revocation hold across gunicorn workers (issue item 6).

Starts the real app under gunicorn with four worker processes on 127.0.0.1, on a port the
system picks, with production settings, a SQLite file in a temporary folder, and the
suite's cache (Redis when REDIS_URL is set, else the database cache). Requests go out
concurrently on fresh connections so that several workers answer; gunicorn's access log
names the worker process of each answer, which is how the test knows.
"""

import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cache_util import delete_cache_keys, shares_the_cache
from tests.live_server import GunicornServer

pytestmark = pytest.mark.slow

WORKERS = 4
PASSWORD = "a long enough passphrase"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access refresh } }"


class Server(GunicornServer):
    def concurrently(self, count, *args, **kwargs):
        """`count` identical requests at once, each on its own connection; their answers and worker pids."""
        served_before = self.served_by()
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(lambda _: self.post(*args, **kwargs), range(count)))
        return results, self.served_by()[len(served_before) :]

    def on_several_workers(self, count, *args, **kwargs):
        """Answers of concurrent batches of a harmless request, until two workers or more have answered."""
        answers, pids = [], set()
        for _ in range(5):
            results, batch_pids = self.concurrently(count, *args, **kwargs)
            answers += results
            pids.update(batch_pids)
            if len(pids) >= 2:
                return answers
        raise AssertionError("one worker answered every request")

    def served_by(self):
        # gunicorn writes the access line after the response; give the last ones a moment.
        time.sleep(0.2)
        lines = self.access_log.read_text().splitlines() if self.access_log.exists() else []
        return [line.split()[0] for line in lines]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if shares_the_cache():
        delete_cache_keys("")  # the server runs with production settings: its keys have no prefix
    # Each phase of the test speaks from its own client address, through one trusted hop; the
    # workers count in the suite's Redis when there is one, as a deployment's would.
    server = Server(
        tmp_path_factory.mktemp("gunicorn"),
        workers=WORKERS,
        LOGIN_RATE_LIMIT="5/m",
        TRUSTED_PROXY_COUNT="1",
        REDIS_URL=os.environ.get("REDIS_URL", ""),
    )
    for username in ("alice", "bob"):
        server.create_user(username, PASSWORD)
    yield server.start()
    server.stop()


def codes(results):
    return sorted(error["extensions"]["code"] for result in results for error in result.get("errors", []))


def test_the_login_rate_limit_holds_across_workers(server):
    results, pids = server.concurrently(20, LOGIN, {"u": "alice", "p": "wrong"}, client_ip="203.0.113.10")
    assert len(set(pids)) >= 2, "the attempts should have been spread over several workers"
    assert codes(results) == ["INVALID_CREDENTIALS"] * 5 + ["RATE_LIMITED"] * 15


def test_a_revoked_session_is_refused_by_every_worker(server):
    tokens = server.post(LOGIN, {"u": "bob", "p": PASSWORD}, client_ip="203.0.113.20")["data"]["tokenAuth"]
    results = server.on_several_workers(12, "{ me { username } }", token=tokens["access"])
    assert {result["data"]["me"]["username"] for result in results} == {"bob"}

    assert server.post("mutation { revokeAllTokens }", token=tokens["access"])["data"]["revokeAllTokens"] == 1

    results = server.on_several_workers(12, "{ me { username } }", token=tokens["access"])
    refusals = {(error["extensions"]["code"], error["extensions"]["reason"]) for r in results for error in r["errors"]}
    assert refusals == {("UNAUTHENTICATED", "token_revoked")}
    refreshed = server.post("mutation ($r: String!) { refreshToken(refresh: $r) { access } }", {"r": tokens["refresh"]})
    assert refreshed["errors"][0]["extensions"]["reason"] == "token_revoked"
