"""The heaviest document we know of within the default limits: its node count, cost and SQL queries.

    python -m bench.heaviest

No field costs a query per item (schema.batching), so a document's queries grow with the
places in it where a field reads the database, not with its page sizes. The most such places:
every alias (15 allowed) repeats a root connection whose items spread one fragment that reads
everything of a user (roles, permissions, two-factor state, a page of tasks and its total) and
again of each task's owner, as deep as the depth limit allows. Run as a superuser over a
database where every list is full, with pages of 1, then with pages that keep the whole just
under the node limit: the queries differ only where a list of 1 happens to be empty (the
superuser, first of the users, has no tasks), never by the number of items.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import AuditEvent, TotpDevice, User  # noqa: E402
from accounts.sessions import start_session  # noqa: E402
from tasks.models import Task  # noqa: E402

USER = """
fragment Everything on User {
  roles permissions totpEnabled
  tasks(first: $inner) {
    totalCount
    edges { node { owner { roles permissions totpEnabled tasks(first: 1) { totalCount } } } }
  }
}
"""
ROOTS = (
    [("users", "...Everything")] * 6
    + [("tasks", "owner { ...Everything }")] * 5
    + [("auditEvents", "user { ...Everything }")] * 5
)


def document():
    fields = [
        f"{'a' + str(index) + ': ' if index else ''}{root}(first: $outer) {{ totalCount edges {{ node {{ {inner} }} }} }}"
        for index, (root, inner) in enumerate(ROOTS)
    ]
    fields.append("me { ...Everything } apiKeys { id } rateLimit { cost nodeCount }")
    variables = "$outer: Int!, $inner: Int!"
    return f"query Heaviest({variables}) {{ {' '.join(fields)} }}" + USER


def seed():
    call_command("migrate", verbosity=0)
    viewer = User.objects.create_user("root", "root@example.com", "x" * 20, is_staff=True, is_superuser=True)
    users = [User.objects.create_user(f"user{index:03}", f"u{index}@example.com", "x" * 20) for index in range(100)]
    Task.objects.bulk_create([Task(owner=users[index % 100], title=f"task {index}") for index in range(3000)])
    TotpDevice.objects.bulk_create([TotpDevice(user=user, secret="S" * 32) for user in users])
    AuditEvent.objects.bulk_create([AuditEvent(type="LOGIN_SUCCESS", user=users[index % 100]) for index in range(200)])
    return viewer


def main():
    client = Client(HTTP_AUTHORIZATION=f"Bearer {start_session(seed()).access}")
    text = document()
    for outer, inner in ((1, 1), (50, 5), (60, 5)):
        variables = {"outer": outer, "inner": inner}
        with CaptureQueriesContext(connection) as captured:
            response = client.post(
                "/graphql/", {"query": text, "variables": variables}, content_type="application/json"
            )
        answer = response.json()
        limits = answer["data"]["rateLimit"] if answer.get("data") else answer["errors"][0]
        print(f"outer pages of {outer}, inner of {inner}: {len(captured.captured_queries)} SQL queries, {limits}")
    print(
        f"limits: nodes {settings.GRAPHQL_MAX_NODES}, depth {settings.GRAPHQL_MAX_DEPTH}, aliases "
        f"{settings.GRAPHQL_MAX_ALIASES}, fields {settings.GRAPHQL_MAX_FIELDS}, tokens {settings.GRAPHQL_MAX_TOKENS}"
    )


if __name__ == "__main__":
    main()
