"""Requests per second of the task list, of one task and of `me`: GraphQL vs a plain view vs DRF.

    pip install -r bench/requirements.txt && python -m bench.run [--rounds 15] [--requests 50] [--profile]

Everything runs in one process through Django's full stack (middleware, URL routing, view,
JSON response) via the test client, on a fresh SQLite database seeded with one user and 100
tasks. Scenarios are interleaved round by round, each round starting with the next scenario, and each
figure is the median over the rounds.
(f) is (a) with METRICS_ENABLED on, its figures written to files as under several gunicorn workers.
Rates are per second of this process's CPU time (the machine may be shared). bench.http measures
over HTTP, with real servers.
"""

import argparse
import json
import os
import statistics
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
# Metrics as gunicorn.conf.py has them with several workers: each value in a memory-mapped file.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="bench-metrics-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken  # noqa: E402

from accounts.models import User  # noqa: E402
from schema.relay import to_global_id  # noqa: E402
from tasks.models import Task  # noqa: E402

PASSWORD = "bench password 12345"
LOGIN = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }"
TASK_FIELDS = "id title description completed createdAt updatedAt owner { username }"
TASK_LIST = f"{{ tasks(first: 100) {{ totalCount edges {{ node {{ {TASK_FIELDS} }} }} }} }}"
ONE_TASK = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
ME = "{ me { id username email } }"


def seed():
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", "bench@example.com", PASSWORD)
    Task.objects.bulk_create(
        [Task(owner=user, title=f"Task {index}", description="Something to do. " * 5) for index in range(100)]
    )
    return user, Task.objects.filter(owner=user).first()


def graphql(client, headers, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}})
    return lambda: client.post("/graphql/", body, content_type="application/json", **headers)


def with_metrics(request):
    def measured():
        settings.METRICS_ENABLED = True
        try:
            return request()
        finally:
            settings.METRICS_ENABLED = False

    return measured


def access_tokens(client, user):
    """(this server's access token for `user`, from a login; Simple JWT's for DRF)."""
    login = client.post(
        "/graphql/", json.dumps({"query": LOGIN, "variables": {"u": user.username, "p": PASSWORD}}), "application/json"
    )
    return login.json()["data"]["tokenAuth"]["access"], str(AccessToken.for_user(user))


def scenarios(user, task):
    client = Client()
    access, simple_jwt_access = access_tokens(client, user)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {access}"}
    simple_jwt = {"HTTP_AUTHORIZATION": f"Bearer {simple_jwt_access}"}
    return {
        "(a) GraphQL tasks(first: 100)": (graphql(client, bearer, TASK_LIST), 100),
        "(b) plain Django JSON view": (lambda: client.get("/plain/tasks/", **bearer), 100),
        "(c) GraphQL task(id:)": (graphql(client, bearer, ONE_TASK, {"id": to_global_id("Task", task.pk)}), 1),
        "(d) DRF ModelViewSet list": (lambda: client.get("/rest/tasks/", **simple_jwt), 100),
        "(e) DRF ModelViewSet retrieve": (lambda: client.get(f"/rest/tasks/{task.pk}/", **simple_jwt), 1),
        "(f) (a) with metrics on": (with_metrics(graphql(client, bearer, TASK_LIST)), 100),
        "(g) GraphQL me": (graphql(client, bearer, ME), 1),
        "(h) DRF me view": (lambda: client.get("/rest/me/", **simple_jwt), 1),
    }


def items_in(response):
    assert response.status_code == 200, response.content[:500]
    payload = response.json()
    assert "errors" not in payload, payload
    data = payload.get("data", payload)
    for key in ("tasks", "results"):
        if key in data:
            listing = data[key]
            return len(listing["edges"] if isinstance(listing, dict) else listing)
    return 1


def requests_per_second(request, count):
    """Requests per second of this process's CPU time: the machine is shared, its wall clock is not ours."""
    started = time.process_time()
    for _ in range(count):
        request()
    return count / (time.process_time() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=50, help="requests per scenario per round")
    parser.add_argument("--profile", action="store_true", help="print a pyinstrument profile of (a) and exit")
    arguments = parser.parse_args()

    measured = scenarios(*seed())
    for name, (request, expected_items) in measured.items():
        assert items_in(request()) == expected_items, name
        requests_per_second(request, arguments.requests)  # warm up

    if arguments.profile:
        from pyinstrument import Profiler

        request = measured["(a) GraphQL tasks(first: 100)"][0]
        with Profiler() as profiler:
            requests_per_second(request, arguments.requests * 4)
        print(profiler.output_text(unicode=True, color=False, show_all=os.environ.get("BENCH_PROFILE_ALL") == "1"))
        return

    rates = {name: [] for name in measured}
    order = list(measured.items())
    for round_number in range(arguments.rounds):
        # Each round starts with another scenario: the first of a round runs slower (the caches
        # hold the previous scenario's code and data), and no scenario should always be first.
        shift = round_number % len(order)
        for name, (request, _) in order[shift:] + order[:shift]:
            rates[name].append(requests_per_second(request, arguments.requests))
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, (request, expected_items) in measured.items():
        assert items_in(request()) == expected_items, f"{name} no longer answers in full"

    print(f"{arguments.rounds} rounds x {arguments.requests} requests each; median requests/s (median ms/request)")
    for name, rate in medians.items():
        print(f"  {name:<34} {rate:8.0f} req/s  ({1000 / rate:6.2f} ms)")
    a, b, c, d, e, f, g, h = medians.values()
    print(f"  (a)/(b) GraphQL list vs plain view   {a / b:5.2f}   target >= 0.9")
    print(f"  (a)/(d) GraphQL list vs DRF list     {a / d:5.2f}   target >= 1.5")
    print(f"  (c)/(e) GraphQL one vs DRF retrieve  {c / e:5.2f}   target >= 1.2")
    print(f"  (g)/(h) GraphQL me vs DRF me         {g / h:5.2f}   target >= 1.2")
    print(f"  (f)/(a) metrics on vs off            {f / a:5.2f}")


if __name__ == "__main__":
    main()
