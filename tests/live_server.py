"""Real server processes for tests that need one, on a free loopback port, stopped by pid:
GunicornServer (the WSGI deployment) and UvicornServer (the ASGI one, with the WebSocket).

Each runs the production settings (DEBUG off) on a SQLite file in its own folder, so what it
answers is what a deployment answers. Its caches are tables of that database, so rate-limit
counts of other tests never reach it; pass REDIS_URL to share the suite's Redis (a test of what
holds across processes). Extra environment variables configure it like an operator would; two
servers given the same DATABASE_URL and DJANGO_SECRET_KEY are two processes of one deployment.
"""

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

from django.conf import settings

BOOT_SECONDS = 60


class LiveServer:
    # Whether the server writes its start-up lines to stderr (else to error_log itself).
    boots_on_stderr = False

    def __init__(self, folder, workers=1, **environment):
        self.folder = folder
        self.workers = workers
        self.access_log = folder / "access.log"
        self.error_log = folder / "error.log"
        # What the application itself logs (Django's logging writes to stderr).
        self.output = folder / "output.log"
        self.migrated = False
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))},
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            "REDIS_URL": "",
            **environment,
        }

    def manage(self, *args):
        """Run a management command with the server's settings; its output."""
        return subprocess.run(
            [sys.executable, "manage.py", *args], env=self.env, cwd=settings.BASE_DIR, check=True, capture_output=True,
            text=True, timeout=120,
        ).stdout  # fmt: skip

    def migrate(self):
        if not self.migrated:
            self.manage("migrate", "--noinput")
            self.manage("createcachetable")
            self.migrated = True

    def create_user(self, username, password, **fields):
        self.migrate()
        self.manage(
            "shell", "-c",
            f"from accounts.models import User; User.objects.create_user({username!r}, password={password!r}, **{fields!r})",
        )  # fmt: skip

    def start(self):
        """Start (or restart) the server; its port is read from this run's own log lines."""
        self.migrate()
        self.error_log.unlink(missing_ok=True)
        with self.output.open("ab") as output, self.error_log.open("ab") as errors:
            self.process = subprocess.Popen(
                self.command(), env=self.env, cwd=settings.BASE_DIR,
                stdout=output, stderr=errors if self.boots_on_stderr else output,
            )  # fmt: skip
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            log = self.error_log.read_text() if self.error_log.exists() else ""
            port = self.listening_port(log)
            if port:
                self.origin = f"http://127.0.0.1:{port}"
                self.url = f"{self.origin}/graphql/"
                return self
            assert self.process.poll() is None, log
            time.sleep(0.1)
        raise AssertionError(f"{type(self).__name__} did not start in {BOOT_SECONDS}s")

    def command(self):
        raise NotImplementedError

    def listening_port(self, log):
        """The port the server listens on, once its log says every worker is up."""
        raise NotImplementedError

    def start_worker(self, *args):
        """`manage.py worker` on the server's database and settings, stopped like the server."""
        log = open(self.folder / "worker.log", "ab")  # noqa: SIM115 (the process holds it)
        return subprocess.Popen(
            [sys.executable, "manage.py", "worker", *args],
            env=self.env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

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

    def get(self, path, headers=None):
        """(status, headers, body) of a GET, whatever the status."""
        request = urllib.request.Request(self.origin + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()


class GunicornServer(LiveServer):
    def __init__(self, folder, workers=1, app="project.wsgi:application", **environment):
        super().__init__(folder, workers, **environment)
        self.app = app

    def command(self):
        return [
            sys.executable, "-m", "gunicorn", self.app,
            "--workers", str(self.workers), "--bind", "127.0.0.1:0", "--timeout", "60", "--graceful-timeout", "5",
            "--access-logfile", str(self.access_log), "--access-logformat", '%(p)s %(s)s "%(r)s"',
            "--error-logfile", str(self.error_log),
        ]  # fmt: skip

    def listening_port(self, log):
        listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", log)
        return listening and log.count("Booting worker") >= self.workers and listening.group(1)


class UvicornServer(LiveServer):
    """project.asgi under uvicorn: HTTP and the WebSocket of subscriptions (ws_url). Its
    start-up lines and what the application logs go to error_log."""

    boots_on_stderr = True

    def command(self):
        return [
            sys.executable, "-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1", "--port", "0",
            "--workers", str(self.workers), "--lifespan", "off", "--no-access-log",
        ]  # fmt: skip

    def listening_port(self, log):
        listening = re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", log)
        return listening and log.count("Started server process") >= self.workers and listening.group(1)

    @property
    def ws_url(self):
        return self.url.replace("http://", "ws://", 1)
