"""The typed Apollo Client of examples/apollo works against the real server, not only compiles.

Builds the example (codegen from schema.graphql, then tsc) and runs its smoke script with node
against gunicorn on a free loopback port: register, login (with and without a second factor),
three tasks read back two at a time, then five operations at once with an expired access token,
which must cost exactly one refreshToken. Access tokens live a few seconds so that they expire
during the test.

Without the example's node_modules (`make examples` installs them) the test skips, unless
REQUIRE_EXAMPLES=1, which CI sets after installing them: there a missing install is a failure.
"""

import json
import os
import shutil
import sqlite3
import subprocess

import pytest
from django.conf import settings

from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

EXAMPLE = settings.BASE_DIR / "examples" / "apollo"
ACCESS_TOKEN_LIFETIME = 4


def require_installed_example():
    if shutil.which("node") is None or shutil.which("npm") is None:
        reason = "Node.js and npm are not on PATH"
    elif not (EXAMPLE / "node_modules").is_dir():
        reason = "examples/apollo/node_modules is not installed: run `make examples`"
    else:
        return
    if os.environ.get("REQUIRE_EXAMPLES") == "1":
        pytest.fail(f"REQUIRE_EXAMPLES=1 but {reason}")
    pytest.skip(reason)


def run(command, **kwargs):
    result = subprocess.run(command, cwd=EXAMPLE, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{' '.join(command)}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def smoke_script():
    require_installed_example()
    run(["npm", "run", "--silent", "build"], timeout=300)
    return "dist/apollo/src/smoke.js"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = LiveServer(
        tmp_path_factory.mktemp("apollo-example"),
        workers=2,
        JWT_ACCESS_TOKEN_LIFETIME=str(ACCESS_TOKEN_LIFETIME),
        # The script logs in seven times from one address within a minute.
        LOGIN_RATE_LIMIT="60/m",
    )
    server.start()
    yield server
    server.stop()


def audit_events(server, username):
    with sqlite3.connect(server.folder / "db.sqlite3") as database:
        rows = database.execute("SELECT type FROM accounts_auditevent WHERE username = ? ORDER BY id", (username,))
        return [event_type for (event_type,) in rows]


def test_the_apollo_example_client_against_a_live_server(smoke_script, server):
    output = run(
        ["node", smoke_script],
        env={**os.environ, "GRAPHQL_URL": f"{server.origin}/graphql/", "ACCESS_TOKEN_LIFETIME": str(ACCESS_TOKEN_LIFETIME)},
        timeout=120,
    )

    summary = json.loads(output.splitlines()[-1])
    assert summary["progress"] == [2, 3]
    assert summary["refreshesInBurst"] == 1
    # Bob's five concurrent operations with an expired token: one refresh between them, on the server too.
    bob = audit_events(server, summary["names"]["bob"])
    assert bob.count("TOKEN_REFRESH") == 1, bob
    assert "TOKEN_REUSE_DETECTED" not in bob
    # Alice's refresh token had been used by someone else: her one refresh ended the session.
    assert summary["aliceSignedOut"] == ["token_revoked"]
    assert audit_events(server, summary["names"]["alice"]).count("TOKEN_REUSE_DETECTED") == 1
