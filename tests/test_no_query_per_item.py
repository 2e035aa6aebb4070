"""No query per item: the SQL of a document depends on its shape, not on how many items its lists hold.

The documents are built from the live schema: for every root list (connections and plain lists)
and every field reachable inside it, through objects (a task's owner, an event's user) and one
nested connection (a user's tasks), a document that selects it; a field added later is walked
too. Each runs with every list sized 1 and sized 50, as a superuser (every rule allows, so every
resolver runs) and as a reader of users and tasks who is not staff (rules refuse other users'
fields, item by item), and must cost the same queries both times.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, get_named_type

from accounts.codenames import VIEW_USER
from accounts.models import ApiKey, AuditEvent, TotpDevice
from schema.schema import schema
from tasks.codenames import VIEW_TASK
from tasks.models import Task
from tests.graphql_util import data_queries

ITEMS = 50
ROOT_LISTS = ("tasks", "users", "auditEvents", "apiKeys")
MOST_LISTS = 2  # a third would hold 50 × 50 × 50 items, far over the node limit
MOST_HOPS = 3


def nullable(graphql_type):
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type


def is_connection(field):
    return "edges" in getattr(get_named_type(field.type), "fields", {})


def item_type(field):
    """The type of the items a list or connection field holds, or the object an object field holds."""
    named = get_named_type(field.type)
    if is_connection(field):
        return get_named_type(get_named_type(named.fields["edges"].type).fields["node"].type)
    return named


def select(name, field, inner, size):
    if is_connection(field):
        return f"{name}(first: {size}) {{ totalCount edges {{ cursor node {{ {inner} }} }} }}"
    return f"{name} {{ {inner} }}"


def selections(object_type, lists, hops):
    """Selections inside an item of `object_type`: its plain fields together, each list of values
    on its own, and each object or connection field walked further."""
    leaves, deeper = [], []
    for name, field in object_type.fields.items():
        if isinstance(get_named_type(field.type), GraphQLObjectType):
            deeper.append((name, field))
        elif isinstance(nullable(field.type), GraphQLList):
            yield name
        else:
            leaves.append(name)
    yield " ".join(leaves)
    if hops == MOST_HOPS:
        return
    for name, field in deeper:
        within = lists + is_connection(field)
        if within <= MOST_LISTS:
            for inner in selections(item_type(field), within, hops + 1):
                yield select(name, field, inner, "$nested")


def documents():
    query = schema._schema.query_type
    for root in ROOT_LISTS:
        field = query.fields[root]
        for inner in selections(item_type(field), 1, 0):
            body = select(root, field, inner, "$root")
            # A plain list (apiKeys) holds all the viewer has: the data sizes it, not a variable.
            declared = ", ".join(f"${name}: Int!" for name in ("root", "nested") if f"${name}" in body)
            yield f"query({declared}) {{ {body} }}" if declared else f"{{ {body} }}"


DOCUMENTS = list(documents())


def test_the_walk_reaches_every_list_inside_a_list():
    walked = "\n".join(DOCUMENTS)
    for path in (
        "users(first: $root) { totalCount edges { cursor node { roles } } }",
        "users(first: $root) { totalCount edges { cursor node { permissions } } }",
        "users(first: $root) { totalCount edges { cursor node { tasks(first: $nested)",
        "tasks(first: $root) { totalCount edges { cursor node { owner { tasks(first: $nested)",
        "auditEvents(first: $root) { totalCount edges { cursor node { user { roles } } } }",
        "node { owner { permissions } } } } } } } } }",
    ):
        assert path in walked, path
    assert len(DOCUMENTS) > 20


@pytest.fixture
def crowd(make_user, grant_role):
    """50 users, each with 50 tasks (task i is user i % 50's, so any page of tasks has many
    owners), a role and a codename of their own, two-factor login, and an audit event each;
    the viewers have 50 API keys and tasks too."""
    role = Group.objects.create(name="editor")
    role.permissions.add(*Permission.objects.filter(codename__in=["add_task", "change_task"]))
    view_user = Permission.objects.get(codename="view_user")
    users = [make_user(f"user{index:02}") for index in range(ITEMS)]
    for user in users:
        user.groups.add(role)
        user.user_permissions.add(view_user)
    viewers = {
        "superuser": make_user("zz-root", is_staff=True, is_superuser=True),
        "reader": grant_role(make_user("zz-reader"), VIEW_USER, VIEW_TASK, role="reader"),
    }
    # The newest tasks and events (the first of their lists) are others', as are the first users.
    everyone = list(viewers.values()) + users
    now = timezone.now()
    Task.objects.bulk_create(
        [Task(owner=everyone[index % len(everyone)], title=f"task {index}") for index in range(ITEMS * len(everyone))]
    )
    TotpDevice.objects.bulk_create([TotpDevice(user=user, secret="S" * 32, confirmed_at=now) for user in everyone])
    AuditEvent.objects.bulk_create([AuditEvent(type="LOGIN_SUCCESS", user=user) for user in everyone])
    ApiKey.objects.bulk_create(
        [
            ApiKey(
                user=viewer,
                name=f"key {index}",
                prefix=f"{name}{index}",
                secret_hash="x",
                expires_at=now + timedelta(days=1),
            )
            for name, viewer in viewers.items()
            for index in range(ITEMS)
        ]
    )
    return viewers


def queries_for(client, document, root, nested=1):
    variables = {name: size for name, size in (("root", root), ("nested", nested)) if f"${name}" in document}
    with CaptureQueriesContext(connection) as captured:
        answer = client.execute(document, variables)
    # Not vacuous: the lists hold what they were asked for.
    if "$root" in document:
        assert len(next(iter(answer["data"].values()))["edges"]) == root, answer
    if "$nested" in document:
        assert str(answer).count("'cursor'") >= root * nested, answer
    return len(data_queries(captured))


@pytest.mark.parametrize("viewer", ["superuser", "reader"])
def test_every_list_inside_a_list_costs_the_same_queries_for_1_item_and_for_50(crowd, client_for, viewer, settings):
    """Sized 1, then the root list sized 50, then the nested ones: each must cost what 1 costs."""
    # Every refusal of a request stores one audit row, one per request whatever its items: no cap
    # reached halfway through, which would make later requests one query cheaper.
    settings.AUDIT_MAX_EVENTS_PER_MINUTE = 10_000
    client = client_for(crowd[viewer])
    # The reader may not read the audit log: refused as a whole, nothing in it runs.
    documents = [document for document in DOCUMENTS if viewer == "superuser" or "auditEvents" not in document]
    for document in documents:
        queries_for(client, document, ITEMS)  # a first run loads what later runs find cached
    costs = {
        document: [queries_for(client, document, ITEMS), queries_for(client, document, 1, ITEMS)]
        for document in documents
    }
    keys = ApiKey.objects.filter(user=crowd[viewer])
    keys.exclude(pk=keys.first().pk).delete()  # apiKeys holds all the viewer's keys: now one
    differing = []
    for document in documents:
        one = queries_for(client, document, 1)
        if costs[document] != [one, one]:
            fifty_at_the_root, fifty_nested = costs[document]
            differing.append(
                f"{document}\n  1 item: {one}, 50 at the root: {fifty_at_the_root}, 50 nested: {fifty_nested}"
            )
    assert not differing, "\n".join(differing)
