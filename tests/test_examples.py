"""The example clients in examples/ work against the real server, not only compile.

Each example is built (typed documents from schema.graphql, then compiled or bundled) and its
smoke script runs with node against uvicorn (project.asgi, HTTP and the WebSocket) on a free
loopback port. Access tokens live a few seconds so that they expire during the run: five
operations sent at once with an expired token must cost exactly one refreshToken (the script
counts what it sends, and the server's audit log must agree), and a subscription's socket,
closed by the server with 4403 token_expired, reconnects after one refresh and goes on. The
Apollo example does the same as a browser keeping its refresh token in the server's cookie,
with two tabs trading one cookie at once.

Each server loads the manifest of persisted documents the example's build wrote
(GRAPHQL_TRUSTED_DOCUMENTS), so it must validate against the schema or the server does not start.
Relay's artifacts hold only the id of their operation, and its network layer sends it as
`doc_id`: every Relay operation of the smoke run is run by the server from that manifest.

Without an example's node_modules (`make examples` installs them) its test skips, unless
REQUIRE_EXAMPLES=1, which CI sets after installing them: there a missing install is a failure.
"""

import json
import os
import shutil
import sqlite3
import subprocess

import pytest
from django.conf import settings

from tests.live_server import UvicornServer

pytestmark = pytest.mark.slow

EXAMPLES = settings.BASE_DIR / "examples"
ACCESS_TOKEN_LIFETIME = 4


def build(example, script):
    """Builds `example` with `npm run <script>`, or skips (fails with REQUIRE_EXAMPLES=1) when it is not installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "Node.js and npm are not on PATH"
    elif not (EXAMPLES / example / "node_modules").is_dir():
        reason = f"examples/{example}/node_modules is not installed: run `make examples`"
    else:
        run(example, ["npm", "run", "--silent", script], timeout=300)
        return
    if os.environ.get("REQUIRE_EXAMPLES") == "1":
        pytest.fail(f"REQUIRE_EXAMPLES=1 but {reason}")
    pytest.skip(reason)


def run(example, command, **kwargs):
    result = subprocess.run(command, cwd=EXAMPLES / example, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


MANIFESTS = {
    "apollo": EXAMPLES / "apollo" / "src" / "gql" / "persisted-documents.json",
    "relay": EXAMPLES / "relay" / "persisted-queries.json",
}


@pytest.fixture
def serve(tmp_path):
    """Starts a server with the manifest an example's build wrote (so, after the build)."""
    servers = []

    def start(example):
        server = UvicornServer(
            tmp_path,
            JWT_ACCESS_TOKEN_LIFETIME=str(ACCESS_TOKEN_LIFETIME),
            # The scripts log in ten times within a minute.
            LOGIN_RATE_LIMIT="60/m",
            GRAPHQL_TRUSTED_DOCUMENTS=str(MANIFESTS[example]),
        )
        servers.append(server.start())
        return server

    yield start
    for server in servers:
        server.stop()


def smoke(server, example, script):
    environment = {
        **os.environ,
        "GRAPHQL_URL": server.url,
        "ACCESS_TOKEN_LIFETIME": str(ACCESS_TOKEN_LIFETIME),
    }
    output = run(example, ["node", script], env=environment, timeout=120)
    return json.loads(output.splitlines()[-1])


def audit_events(server, username):
    with sqlite3.connect(server.folder / "db.sqlite3") as database:
        rows = database.execute("SELECT type FROM accounts_auditevent WHERE username = ? ORDER BY id", (username,))
        return [event_type for (event_type,) in rows]


def assert_socket_renewed(summary, events):
    closes = summary["socketCloses"]
    assert closes and set(closes) == {"4403 token_expired"}, closes
    assert summary["refreshesAcrossExpiry"] >= 1
    assert "TOKEN_REUSE_DETECTED" not in events


def refresh_tokens_issued(server, username):
    with sqlite3.connect(server.folder / "db.sqlite3") as database:
        (count,) = database.execute(
            "SELECT COUNT(*) FROM accounts_refreshtoken JOIN accounts_loginsession ON session_id = accounts_loginsession.id"
            " JOIN accounts_user ON user_id = accounts_user.id WHERE username = ?",
            (username,),
        ).fetchone()
        return count


def test_the_apollo_example_against_a_live_server(serve):
    build("apollo", "build")
    server = serve("apollo")
    summary = smoke(server, "apollo", "dist/apollo/src/smoke.js")

    assert summary["progress"] == [2, 3]
    assert summary["refreshesInBurst"] == 1
    # Bob's five concurrent operations with an expired token: one refresh between them, on the server too.
    bob = audit_events(server, summary["names"]["bob"])
    assert bob.count("TOKEN_REFRESH") == 1, bob
    assert "TOKEN_REUSE_DETECTED" not in bob
    # Alice's refresh token had been used by someone else: her one refresh ended the session.
    assert summary["aliceSignedOut"] == ["token_revoked"]
    assert audit_events(server, summary["names"]["alice"]).count("TOKEN_REUSE_DETECTED") == 1
    # Dave's browser tabs kept the refresh token in a cookie: one refresh for three operations at
    # once, then two new tabs that traded the same cookie together, which is no reuse.
    assert summary["cookieRefreshesInBurst"] == 1
    dave = audit_events(server, summary["names"]["dave"])
    assert dave.count("TOKEN_REFRESH") == 3, dave
    assert "TOKEN_REUSE_DETECTED" not in dave and dave.count("TOKEN_REVOKED") == 1
    # The login's, the burst's, and one for both tabs: the chain did not fork.
    assert refresh_tokens_issued(server, summary["names"]["dave"]) == 3
    # Erin's subscription outlived her access token: the server closed the socket, the client
    # refreshed and reconnected (again if the new token expired before the script was done).
    assert_socket_renewed(summary, audit_events(server, summary["names"]["erin"]))


def test_the_relay_example_against_a_live_server(serve):
    build("relay", "build-smoke")
    server = serve("relay")
    summary = smoke(server, "relay", "dist/smoke.mjs")

    assert summary["progress"] == [2, 3]
    assert summary["refreshesInBurst"] == 1
    events = audit_events(server, summary["username"])
    assert "TOKEN_REUSE_DETECTED" not in events
    assert_socket_renewed(summary, events)
