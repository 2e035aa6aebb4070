"""The shell walk-through at the top of README.md works, pasted as it is, against a live server."""

import re
import shutil
import subprocess

import pytest
from django.conf import settings

from tests.live_server import GunicornServer

pytestmark = pytest.mark.slow

README = settings.BASE_DIR / "README.md"


def readme_shell_flow():
    section = README.read_text().split("## The auth flow", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL)[1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="the README's walk-through uses curl")
def test_the_readme_auth_flow_runs_as_written(tmp_path):
    server = GunicornServer(tmp_path).start()
    try:
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_shell_flow()],
            env={"PATH": "/usr/bin:/bin", "GQL": server.url},
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    finally:
        server.stop()
    assert run.returncode == 0, run.stderr
    answers = run.stdout.splitlines()
    assert '"username":"alice"' in answers[0] and "errors" not in answers[0]
    assert answers[1] == '{"data":{"me":{"username":"alice","email":"alice@example.com"}}}'
    assert answers[2] == '{"data":{"revokeToken":{"revoked":true}}}'
