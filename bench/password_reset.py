"""Does requestPasswordReset tell by its timing whether an address has an account?

    python -m bench.password_reset [--pairs 50]

Through Django's full stack with the test client, on a fresh SQLite database (production
settings, the rate limit raised out of the way): requestPasswordReset for an address an active
user has (known) and for one nobody has (unknown), in pairs whose order alternates, after a
warm-up. Both must answer true and queue one job each. The script prints the median of each and
of the per-pair difference, with the interquartile range of the differences: a difference that
is large against that spread would tell an attacker which addresses exist. docs/recovery.md;
docs/performance.md has the figures.
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
    PASSWORD_RESET_RATE_LIMIT="1000000/h",
    LOG_LEVEL="WARNING",
)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django_tasks_db.models import DBTaskResult  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.timing_pairs import alternating, report  # noqa: E402

REQUEST = "mutation($email: String!) { requestPasswordReset(email: $email) }"
KNOWN, UNKNOWN = "alice@example.com", "nobody@example.com"


def seed():
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    for index in range(200):  # no usable password: Argon2 would take most of the run
        User.objects.create_user(f"user{index}", f"user{index}@example.com")
    User.objects.create_user("alice", KNOWN, "bench password 12345")


def request_for(client, address):
    body = json.dumps({"query": REQUEST, "variables": {"email": address}})

    def timed():
        started = time.perf_counter_ns()
        response = client.post("/graphql/", body, content_type="application/json")
        elapsed = time.perf_counter_ns() - started
        assert response.json() == {"data": {"requestPasswordReset": True}}, response.content
        return elapsed / 1e6

    return timed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=50)
    arguments = parser.parse_args()

    seed()
    client = Client()
    known, unknown = request_for(client, KNOWN), request_for(client, UNKNOWN)
    for _ in range(50):  # warm up caches, counters and the interpreter
        known(), unknown()

    known_ms, unknown_ms = alternating(known, unknown, arguments.pairs)
    assert DBTaskResult.objects.count() == 2 * (50 + arguments.pairs), "every request should queue one job"

    print(f"{arguments.pairs} calls each, requestPasswordReset answered true; median ms per request")
    report("known address (an active user's)", known_ms, "unknown address (nobody's)", unknown_ms)


if __name__ == "__main__":
    main()
