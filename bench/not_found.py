"""Does NOT_FOUND tell by its timing whether a task exists? task(id:) for a hidden task vs a missing one.

    python -m bench.not_found [--pairs 2000]

Through Django's full stack with the test client, on a fresh SQLite database (production settings):
a plain user (no codename) asks for another user's task (hidden: NOT_FOUND) and for an id no
task has (missing: NOT_FOUND), in pairs whose order alternates, and the script prints the
median of each and of the per-pair difference. Both answers must be NOT_FOUND; a difference
that is large against the spread (the interquartile range of the differences) would tell an
attacker which ids exist. docs/permissions.md; docs/performance.md has the figures.
"""

import argparse
import json
import os
import tempfile
import time

os.environ.update(
    DJANGO_SETTINGS_MODULE="project.settings",
    DJANGO_DEBUG="0",
    DJANGO_SECRET_KEY="bench-secret-key-" + "x" * 48,
    DJANGO_ALLOWED_HOSTS="testserver",
    DATABASE_URL=f"sqlite:///{tempfile.mkdtemp(prefix='bench-')}/bench.sqlite3",
    REDIS_URL="",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.sessions import start_session  # noqa: E402
from bench.timing_pairs import alternating, report  # noqa: E402
from schema.relay import to_global_id  # noqa: E402
from tasks.models import Task  # noqa: E402

ONE_TASK = "query($id: ID!) { task(id: $id) { id title } }"


def seed():
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    viewer = User.objects.create_user("viewer", "viewer@example.com", "bench password 12345")
    other = User.objects.create_user("other", "other@example.com", "bench password 12345")
    Task.objects.bulk_create(
        [Task(owner=owner, title=f"Task {index}") for index in range(100) for owner in (viewer, other)]
    )
    hidden = Task.objects.filter(owner=other).order_by("pk").first().pk
    missing = Task.objects.order_by("-pk").first().pk + 1000
    return start_session(viewer).access, hidden, missing


def request_for(client, access, pk):
    body = json.dumps({"query": ONE_TASK, "variables": {"id": to_global_id("Task", pk)}})
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access}"}

    def timed():
        started = time.perf_counter_ns()
        response = client.post("/graphql/", body, content_type="application/json", **headers)
        elapsed = time.perf_counter_ns() - started
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND", response.content
        return elapsed / 1e6

    return timed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000)
    arguments = parser.parse_args()

    access, hidden_pk, missing_pk = seed()
    client = Client()
    hidden, missing = request_for(client, access, hidden_pk), request_for(client, access, missing_pk)
    for _ in range(200):  # warm up caches and the interpreter
        hidden(), missing()

    hidden_ms, missing_ms = alternating(hidden, missing, arguments.pairs)

    print(f"{arguments.pairs} pairs, task(id:) answered NOT_FOUND; median ms per request")
    report("hidden task (another user's)", hidden_ms, "missing task (no such id)", missing_ms)


if __name__ == "__main__":
    main()
