"""SIGTERM lets a gunicorn worker finish the request it is serving (docs/deployment.md)."""

import json
import signal
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live_server import GunicornServer

pytestmark = pytest.mark.slow


def wait_for(condition, seconds=30):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_sigterm_during_a_slow_request_lets_it_finish(tmp_path):
    server = GunicornServer(tmp_path, app="tests.slow_app:application", SLOW_REQUEST_FOLDER=str(tmp_path))
    server.start()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            answer = pool.submit(lambda: urllib.request.urlopen(f"{server.origin}/slow-request/", timeout=60))
            wait_for((tmp_path / "started").exists)  # the worker is serving it
            server.process.send_signal(signal.SIGTERM)
            wait_for(lambda: "Handling signal: term" in server.error_log.read_text())
            assert server.process.poll() is None, "the server must wait for its request"
            (tmp_path / "release").touch()
            response = answer.result(timeout=60)
            assert (response.status, json.load(response)) == (200, {"status": "ok"})
        assert server.process.wait(timeout=30) == 0
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
    assert "Shutting down: Master" in server.error_log.read_text()
