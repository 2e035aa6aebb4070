"""A WSGI application for tests/test_graceful_shutdown.py only: the project's application, with
one path whose request stays in flight until the test lets it finish.

`/slow-request/` writes SLOW_REQUEST_FOLDER/started, waits until the test creates `release`
there, then answers as the project answers /healthz. Never part of the product.
"""

import os
import time
from pathlib import Path

from project.wsgi import application as project_application

FOLDER = Path(os.environ["SLOW_REQUEST_FOLDER"])
WAIT_SECONDS = 30


def application(environ, start_response):
    if environ["PATH_INFO"] == "/slow-request/":
        (FOLDER / "started").touch()
        deadline = time.monotonic() + WAIT_SECONDS
        while not (FOLDER / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        environ["PATH_INFO"] = "/healthz"
    return project_application(environ, start_response)
