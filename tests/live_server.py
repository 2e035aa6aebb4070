"""The real app under gunicorn on 127.0.0.1, for the tests that need a live server.

Production settings, a port the system picks, a SQLite file in a temporary folder, and the
suite's cache (Redis when REDIS_URL is set, else the database cache). gunicorn's access log
names the worker process of each answer.
"""

import os
import re
import secrets
import signal
import subprocess
import sys
import time

from django.conf import settings

BOOT_SECONDS = 60


class LiveServer:
    def __init__(self, folder, workers=1, **environment):
        self.folder = folder
        self.workers = workers
        self.access_log = folder / "access.log"
        self.error_log = folder / "error.log"
        self.env = {
            **{key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DATABASE_URL"))},
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
            **environment,
        }

    def manage(self, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args], env=self.env, cwd=settings.BASE_DIR, check=True, capture_output=True,
            timeout=120,
        )  # fmt: skip

    def start(self, users=None):
        """Migrates, creates `users` (username: password) and starts gunicorn."""
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        if users:
            self.manage("shell", "-c", "from accounts.models import User\n" + "".join(
                f"User.objects.create_user({name!r}, password={password!r})\n" for name, password in users.items()
            ))  # fmt: skip
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "project.wsgi:application",
                "--workers", str(self.workers), "--bind", "127.0.0.1:0", "--timeout", "60", "--graceful-timeout", "5",
                "--access-logfile", str(self.access_log), "--access-logformat", '%(p)s %(s)s "%(r)s"',
                "--error-logfile", str(self.error_log),
            ],
            env=self.env, cwd=settings.BASE_DIR,
        )  # fmt: skip
        deadline = time.monotonic() + BOOT_SECONDS
        while time.monotonic() < deadline:
            log = self.error_log.read_text() if self.error_log.exists() else ""
            listening = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log)
            if listening and log.count("Booting worker") >= self.workers:
                self.origin = listening.group(1)
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
