"""The login rate limit and session revocation hold across gunicorn workers (issue item 6).

Starts the real app under gunicorn with four worker processes on 127.0.0.1, on a port the
system picks, with production settings, a SQLite file in a temporary folder, and the
suite's cache (Redis when REDIS_URL is set, else the database cache). Requests go out
concurrently on fresh connections so that several workers answer; gunicorn's access log
names the worker process of each answer, which is how the test knows.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from django.conf import settings

pytestmark = pytest.mark.slow

WORKERS = 4
BOOT_SECONDS = 60
PASSWORD = "a long enough passphrase"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access refresh } }"


class Server:
    def __init__(self, folder):
        self.folder = folder
        self.access_log = folder / "access.log"
        self.error_log = folder / "error.log"
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))},
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "LOGIN_RATE_LIMIT": "5/m",
            # Each phase of the test speaks from its own client address, through one trusted hop.
            "TRUSTED_PROXY_COUNT": "1",
        }

    def manage(self, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args], env=self.env, cwd=settings.BASE_DIR, check=True, capture_output=True,
            timeout=120,
        )

    def start(self):
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        if os.environ.get("REDIS_URL"):
            # The server's counters, left in Redis by an earlier run (the suite's own keys carry a prefix).
            client = redis.Redis.from_url(os.environ["REDIS_URL"])
            for key in client.scan_iter(match=":1:*"):
                client.delete(key)
        for username in ("alice", "bob"):
            self.manage(
                "shell", "-c",
                f"from accounts.models import User; User.objects.create_user({username!r}, password={PASSWORD!r})",
            )  # fmt: skip
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "project.wsgi:application",
                "--workers", str(WORKERS), "--bind", "127.0.0.1:0", "--timeout", "60", "--graceful-timeout", "5",
                "--access-logfile", str(self.access_log), "--access-logformat", '%(p)s %(s)s "%(r)s"',
                "--error-logfile", str(self.error_log),
            ],
            env=self.env, cwd=settings.BASE_DIR,
        )  # fmt: skip
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            log = self.error_log.read_text() if self.error_log.exists() else ""
            listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log)
            if listening and log.count("Booting worker") >= WORKERS:
                self.url = f"http://127.0.0.1:{listening.group(1)}/graphql/"
                return
            assert self.process.poll() is None, log
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not start in {BOOT_SECONDS}s")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def post(self, query, variables=None, client_ip="203.0.113.1", token=None):
        headers = {"Content-Type": "application/json", "X-Forwarded-For": client_ip}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def concurrently(self, count, *args, **kwargs):
        """`count` identical requests at once, each on its own connection; their answers and worker pids."""
        served_before = self.served_by()
        with ThreadPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(lambda _: self.post(*args, **kwargs), range(count)))
        return results, self.served_by()[len(served_before):]

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
    server = Server(tmp_path_factory.mktemp("gunicorn"))
    server.start()
    yield server
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
