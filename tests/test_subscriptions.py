"""taskEvents over the WebSocket (docs/subscriptions.md), through project.asgi in the test's process.

Channels' WebsocketCommunicator drives the real consumer; tasks change through the domain and
requests through the HTTP endpoint, each committing, so events are published as in production
(over the suite's Redis when REDIS_URL is set, in memory otherwise). tests/test_subscriptions_live.py
does the same over real sockets, and across processes.
"""

import asyncio
import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from graphql import parse

from accounts import apikeys
from accounts.models import LoginSession
from accounts.request_meta import RequestMeta
from accounts.sessions import start_session
from project import metrics
from schema import limits
from schema.execution import PlainFieldShortcut
from schema.relay import to_global_id
from schema.schema import schema
from schema.sockets.hub import BACKLOG, Listener
from tasks import services
from tasks.models import Task
from tests.graphql_util import PASSWORD, GraphQLClient
from tests.sockets import TASK_EVENTS, Closed, Socket, orm, run

pytestmark = pytest.mark.django_db(transaction=True)

OWNER_EMAIL = """
subscription OwnerEmails { taskEvents { kind task { title owner { username email } } } }
"""
TITLES = "subscription Titles { taskEvents { kind task { title } } }"


def bearer(user):
    return {"Authorization": f"Bearer {start_session(user).access}"}


def api_key(user, **fields):
    key, secret = apikeys.create(user, "socket", False, None, PASSWORD, RequestMeta(ip="192.0.2.1"))
    if fields:
        type(key).objects.filter(pk=key.pk).update(**fields)
    return key, secret


def event(message):
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    return message["payload"]["data"]["taskEvents"]


# Who is on the socket.


def test_the_owner_hears_each_change_of_a_task_once_it_commits(alice):
    credential = {"authorization": bearer(alice)["Authorization"]}  # names in any case

    async def scenario():
        async with Socket() as socket:
            assert (await socket.init(credential))["type"] == "connection_ack"
            assert await socket.subscribe() == []
            task = await orm(services.create_task, alice, "Buy milk")
            created = event(await socket.receive())
            task_id = to_global_id("Task", task.pk)
            assert created == {
                "kind": "CREATED",
                "deletedId": None,
                "task": {
                    "id": task_id,
                    "title": "Buy milk",
                    "completed": False,
                    "owner": {"username": "alice", "email": "alice@example.com"},
                },
            }
            await orm(services.update_task, alice, task.pk, {"completed": True})
            updated = event(await socket.receive())
            assert (updated["kind"], updated["task"]["completed"]) == ("UPDATED", True)
            await orm(services.delete_task, alice, task.pk)
            assert event(await socket.receive()) == {"kind": "DELETED", "deletedId": task_id, "task": None}

    run(scenario)


def test_changes_made_outside_the_api_are_heard_and_rolled_back_ones_are_not(alice):
    """The admin, a shell or any code that saves a task announces it; a rollback announces nothing."""
    credential = bearer(alice)

    def rolled_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            Task.objects.create(owner=alice, title="Never committed")
            raise RuntimeError

    async def scenario():
        async with Socket() as socket:
            await socket.init(credential)
            await socket.subscribe()
            await orm(rolled_back)
            task = await orm(Task.objects.create, owner=alice, title="Saved in a shell")
            assert event(await socket.receive())["task"]["title"] == "Saved in a shell"
            await orm(task.delete)
            assert event(await socket.receive())["kind"] == "DELETED"

    run(scenario)


def test_an_api_key_in_connection_init_authenticates_the_socket(alice):
    _, secret = api_key(alice)

    async def scenario():
        async with Socket() as socket:
            assert (await socket.init({"X-API-KEY": secret}))["type"] == "connection_ack"
            await socket.subscribe()
            await orm(services.create_task, alice, "From a key's socket")
            assert event(await socket.receive())["task"]["title"] == "From a key's socket"

    run(scenario)


def refused_credentials(user):
    revoked = start_session(user)
    LoginSession.objects.filter(pk=revoked.session_id).revoke()
    _, secret = api_key(user)
    return {
        "malformed": ({"Authorization": "Bearer not-a-token"}, "token_invalid"),
        "not bearer": ({"Authorization": f"Basic {start_session(user).access}"}, "token_invalid"),
        "revoked session": ({"Authorization": f"Bearer {revoked.access}"}, "token_revoked"),
        "unknown key": ({"X-API-Key": "gqlauth_0123456789abcdef_" + "x" * 43}, "api_key_invalid"),
        "both credentials": (
            {"Authorization": f"Bearer {start_session(user).access}", "X-API-Key": secret},
            "api_key_invalid",
        ),
        "not text": ({"Authorization": 12}, "token_invalid"),
    }


@pytest.mark.parametrize(
    "case", ["malformed", "not bearer", "revoked session", "unknown key", "both credentials", "not text"]
)
def test_a_refused_credential_closes_the_socket_with_4403_and_the_reason(alice, case):
    payload, reason = refused_credentials(alice)[case]

    async def scenario():
        async with Socket() as socket:
            with pytest.raises(Closed) as closed:
                await socket.init(payload)
            assert (closed.value.code, closed.value.reason) == (4403, reason)

    run(scenario)


def test_an_expired_access_token_is_refused_at_connection_init(alice, time_machine):
    access = bearer(alice)
    time_machine.move_to(timezone.now() + timedelta(seconds=settings.JWT["ACCESS_TOKEN_LIFETIME"] + 1))

    async def scenario():
        async with Socket() as socket:
            with pytest.raises(Closed) as closed:
                await socket.init(access)
            assert (closed.value.code, closed.value.reason) == (4403, "token_expired")

    run(scenario)


def test_an_anonymous_socket_is_told_unauthenticated_when_it_subscribes(alice):
    async def scenario():
        async with Socket() as socket:
            assert (await socket.init())["type"] == "connection_ack"
            (answer,) = await socket.subscribe()
            assert answer["type"] == "error"
            (error,) = answer["payload"]
            assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}
            assert error["path"] == ["taskEvents"]
            await orm(services.create_task, alice, "Not for strangers")
            await socket.send({"type": "ping"})
            assert await socket.receive() == {"type": "pong"}

    run(scenario)


# The handshake.


@pytest.mark.parametrize(
    "origin,accepted",
    [
        (None, True),  # not a browser
        ("http://testserver", True),
        ("https://testserver", True),  # the same host and port: TLS may end at a proxy
        ("http://localhost:3000", True),  # in CORS_ALLOWED_ORIGINS below
        ("http://evil.example", False),
        ("http://testserver:8080", False),
        ("http://localhost:3001", False),
        ("null", False),
    ],
)
@override_settings(CORS_ALLOWED_ORIGINS=["http://localhost:3000"])
def test_only_the_servers_own_origin_and_the_allowed_ones_may_open_a_socket(origin, accepted):
    async def scenario():
        socket = Socket(origin=origin)
        result = await socket.connect()
        assert result == ((True, "graphql-transport-ws") if accepted else (False, 1000))
        await socket.disconnect()

    run(scenario)


def test_a_host_outside_allowed_hosts_is_refused():
    """Else a page on a name resolving to the server (DNS rebinding) would pass as same-origin."""

    async def scenario():
        socket = Socket(host="rebound.example", origin="http://rebound.example")
        assert await socket.connect() == (False, 1000)
        await socket.disconnect()

    run(scenario)


@pytest.mark.parametrize("subprotocols", [["graphql-ws"], [], ["graphql-ws", "something-else"]])
def test_only_graphql_transport_ws_is_spoken(subprotocols):
    async def scenario():
        socket = Socket(subprotocols=subprotocols)
        assert await socket.connect() == (False, 1000)
        await socket.disconnect()

    run(scenario)


# What a socket runs.


@pytest.mark.parametrize(
    "document",
    ["query Me { me { username } }", 'mutation Add { createTask(input: {title: "over the socket"}) { id } }'],
)
def test_queries_and_mutations_over_the_socket_get_an_error_and_run_nothing(alice, document):
    credential = bearer(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init(credential)
            (answer,) = await socket.subscribe(document)
            assert answer["type"] == "error"
            assert [error["extensions"]["code"] for error in answer["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]

    run(scenario)
    assert not alice.tasks.exists()


@pytest.mark.parametrize(
    "message", ["[" * 2000 + "]" * 2000, "[]", '"subscribe"', '{"type": "subscribe", "id": "1", "payload": []}']
)
def test_a_message_that_is_not_one_of_the_protocol_closes_the_socket(alice, message):
    """Nested deeper than the decoder follows, or not an object: once, such a message left the
    socket open and deaf, its handler gone."""
    credential = bearer(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init(credential)
            await socket.send_text(message)
            assert (await socket.closed()).code == 4400

    run(scenario)


def test_a_subscription_named_by_a_trusted_documents_id_runs_and_text_is_refused_in_trusted_only_mode(alice, tmp_path):
    manifest = tmp_path / "persisted-queries.json"
    manifest.write_text(json.dumps({"task-events": TASK_EVENTS}))
    credential = bearer(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init(credential)
            assert await socket.subscribe(payload={"documentId": "task-events"}) == []
            (refused,) = await socket.subscribe(id="2")
            assert refused["payload"][0]["extensions"] == {"code": "PERSISTED_QUERY_ONLY"}
            (unknown,) = await socket.subscribe(id="3", payload={"doc_id": "no such id"})
            assert unknown["payload"][0]["extensions"] == {"code": "PERSISTED_QUERY_NOT_FOUND"}
            await orm(services.create_task, alice, "Heard by id")
            assert event(await socket.receive())["task"]["title"] == "Heard by id"

    with override_settings(GRAPHQL_TRUSTED_DOCUMENTS=[str(manifest)], GRAPHQL_TRUSTED_DOCUMENTS_ONLY=True):
        run(scenario)


@override_settings(GRAPHQL_MAX_BODY_BYTES=2000)
def test_a_message_larger_than_the_body_limit_closes_the_socket(alice):
    padded = TASK_EVENTS + "#" * 2000
    alice_credential = bearer(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init(alice_credential)
            await socket.send({"type": "subscribe", "id": "1", "payload": {"query": padded}})
            assert (await socket.closed()).code == 1009

    run(scenario)


@override_settings(GRAPHQL_MAX_DEPTH=2)
def test_document_limits_apply_to_subscriptions(alice):
    alice_credential = bearer(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init(alice_credential)
            (answer,) = await socket.subscribe()  # taskEvents { task { owner { ... } } }: depth 3
            assert answer["type"] == "error"
            assert [error["extensions"]["code"] for error in answer["payload"]] == ["GRAPHQL_VALIDATION_FAILED"]
            assert "depth 3" in answer["payload"][0]["message"]

    run(scenario)


def test_a_socket_holds_at_most_twenty_subscriptions(alice):
    alice_credential = bearer(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init(alice_credential)
            for number in range(1, 21):
                assert await socket.subscribe(id=str(number)) == []
            (answer,) = await socket.subscribe(id="21")
            assert answer["type"] == "error" and answer["id"] == "21"
            assert answer["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
            await socket.send({"type": "complete", "id": "7"})
            assert await socket.subscribe(id="21") == []
            await orm(services.create_task, alice, "Heard twenty times")
            heard = {(await socket.receive())["id"] for _ in range(20)}
            assert heard == {str(number) for number in range(1, 22)} - {"7"}

    run(scenario)


def test_an_event_keeps_nothing_of_the_earlier_ones_alive():
    """graphql-core's copy of the subscription's executor for an event shares its caches, keyed by
    objects each event makes anew: every event of a long subscription would stay in memory."""
    subscription = PlainFieldShortcut.build(schema._schema, parse(TASK_EVENTS))
    first, second = (subscription.build_per_event_executor(None) for _ in range(2))
    assert first._relevant_sub_fields is not second._relevant_sub_fields
    assert first.plain_leaves is not second.plain_leaves


# Who hears what.


def test_another_users_changes_do_not_reach_a_subscriber(alice, bob):
    bob_credential = bearer(bob)

    async def scenario():
        async with Socket() as socket:
            await socket.init(bob_credential)
            await socket.subscribe()
            await orm(services.create_task, alice, "Alice's secret")
            await orm(services.create_task, bob, "Bob's own")
            # Events are delivered in commit order: Bob's first event is his own task.
            assert event(await socket.receive())["task"]["title"] == "Bob's own"

    run(scenario)


def test_a_view_task_holder_hears_every_change_with_the_field_rules_of_a_query(alice, bob, grant_role):
    grant_role(bob, "tasks.view_task")
    bob_credential = bearer(bob)

    async def scenario():
        async with Socket() as socket:
            await socket.init(bob_credential)
            await socket.subscribe(OWNER_EMAIL)
            await orm(services.create_task, alice, "Alice's")
            message = await socket.receive()
            assert message["payload"]["data"]["taskEvents"] == {
                "kind": "CREATED",
                "task": {"title": "Alice's", "owner": {"username": "alice", "email": None}},
            }
            (error,) = message["payload"]["errors"]
            assert error["path"] == ["taskEvents", "task", "owner", "email"]
            assert error["extensions"]["code"] == "FORBIDDEN"

    run(scenario)
    # One refusal recorded for the operation, as for a query.
    assert [event.type for event in bob.audit_events.all()] == ["PERMISSION_DENIED"]


def test_what_a_viewer_may_see_is_decided_at_each_event(alice, bob, grant_role):
    bob_credential, alice_credential = bearer(bob), bearer(alice)

    async def scenario():
        async with Socket() as socket, Socket() as witness:
            await socket.init(bob_credential)
            await socket.subscribe(TITLES)
            await witness.init(alice_credential)
            await witness.subscribe(TITLES)

            # Who may see an event is decided when this process prepares it for its subscribers
            # (through Redis, a moment after the commit): Alice hearing her change says it was.
            async def create_and_wait(owner, title):
                await orm(services.create_task, owner, title)
                assert event(await witness.receive())["task"]["title"] == title

            await create_and_wait(alice, "Before the role")
            await orm(grant_role, bob, "tasks.view_task")
            await create_and_wait(alice, "With the role")
            assert event(await socket.receive())["task"]["title"] == "With the role"
            await orm(bob.groups.clear)
            await create_and_wait(alice, "After the role")
            await orm(services.create_task, bob, "Bob's own")
            assert event(await socket.receive())["task"]["title"] == "Bob's own"

    run(scenario)


@override_settings(GRAPHQL_FIELD_CODENAMES={"Task.description": ["tasks.view_task"]})
def test_operator_codenames_of_the_selected_fields_are_checked_when_subscribing_and_at_each_event(
    alice, bob, grant_role
):
    with_description = "subscription Described { taskEvents { task { title description } } }"
    grant_role(bob, "tasks.view_task")
    alice_credential = bearer(alice)
    bob_credential = bearer(bob)

    async def scenario():
        async with Socket() as refused, Socket() as allowed:
            await refused.init(alice_credential)
            (answer,) = await refused.subscribe(with_description)
            assert answer["type"] == "error"
            assert answer["payload"][0]["extensions"] == {"code": "FORBIDDEN", "required": ["tasks.view_task"]}

            await allowed.init(bob_credential)
            await allowed.subscribe(with_description)
            await orm(services.create_task, alice, "Described", "in detail")
            assert event(await allowed.receive()) == {"task": {"title": "Described", "description": "in detail"}}
            await orm(bob.groups.clear)
            await orm(services.create_task, bob, "No longer")
            ended = await allowed.receive()
            assert ended["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
            assert await allowed.receive() == {"id": "1", "type": "complete"}

    run(scenario)


# Revocation reaches open sockets, whoever makes it and with no event flowing.


def revoke_all_over_http(user, access):
    result = GraphQLClient().authenticate(access).execute("mutation { revokeAllTokens }")
    assert result["data"]["revokeAllTokens"] == 1


def deactivate(user, access):
    user.is_active = False
    user.save()


def set_new_password(user, access):
    user.set_password("an entirely new passphrase")
    user.save()


@pytest.mark.parametrize(
    "revoke,reason",
    [(revoke_all_over_http, "token_revoked"), (deactivate, "token_revoked"), (set_new_password, "token_revoked")],
)
def test_a_revoked_session_closes_its_socket_with_4403(alice, revoke, reason):
    access = start_session(alice).access

    async def scenario():
        async with Socket() as socket:
            await socket.init({"Authorization": f"Bearer {access}"})
            await socket.subscribe()
            await orm(revoke, alice, access)
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, reason)

    run(scenario)


def test_a_revoked_api_key_closes_its_socket_with_4403(alice):
    key, secret = api_key(alice)

    async def scenario():
        async with Socket() as socket:
            await socket.init({"X-API-Key": secret})
            await socket.subscribe()
            await orm(apikeys.revoke, key, RequestMeta())
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "api_key_invalid")

    run(scenario)


def test_no_event_reaches_a_socket_once_its_session_is_revoked(alice):
    """Each event authenticates its viewer again, so the close comes before any later change."""
    access = start_session(alice).access

    async def scenario():
        async with Socket() as socket:
            await socket.init({"Authorization": f"Bearer {access}"})
            await socket.subscribe()
            await orm(LoginSession.objects.filter(user=alice).revoke)
            await orm(services.create_task, alice, "After the revocation")
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "token_revoked")

    run(scenario)


@override_settings(JWT={**settings.JWT, "ACCESS_TOKEN_LIFETIME": 2})
def test_a_socket_closes_when_its_access_token_expires(alice):
    async def scenario():
        async with Socket() as socket:
            # Issued once the socket is open: its lifetime is left for the timer, not the handshake.
            access = (await orm(start_session, alice)).access
            assert (await socket.init({"Authorization": f"Bearer {access}"}))["type"] == "connection_ack"
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "token_expired")

    run(scenario)


def test_a_socket_closes_when_its_api_key_expires(alice):
    async def scenario():
        async with Socket() as socket:
            # Made once the socket is open: its lifetime is left for the timer, not the handshake.
            _, secret = await orm(api_key, alice, expires_at=timezone.now() + timedelta(seconds=2))
            assert (await socket.init({"X-API-Key": secret}))["type"] == "connection_ack"
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "api_key_invalid")

    run(scenario)


# Limits of a socket.


@override_settings(GRAPHQL_WS_MAX_SOCKETS_PER_USER=2)
def test_a_user_holds_at_most_the_allowed_number_of_sockets(alice, bob):
    alice_credential = bearer(alice)
    bob_credential = bearer(bob)

    async def scenario():
        async with Socket() as first, Socket() as second, Socket() as third, Socket() as bobs:
            for socket in (first, second):
                assert (await socket.init(alice_credential))["type"] == "connection_ack"
            with pytest.raises(Closed) as closed:
                await third.init(alice_credential)
            assert closed.value.code == 1013
            assert (await bobs.init(bob_credential))["type"] == "connection_ack"
            await first.disconnect()
        async with Socket() as again:
            assert (await again.init(alice_credential))["type"] == "connection_ack"

    run(scenario)


@override_settings(METRICS_ENABLED=True)
def test_the_gauges_count_open_sockets_and_running_subscriptions(alice):
    credential = bearer(alice)

    def gauges():
        return metrics.OPEN_WEBSOCKETS._value.get(), metrics.ACTIVE_SUBSCRIPTIONS._value.get()

    before = gauges()

    async def scenario():
        async with Socket() as socket:
            await socket.init(credential)
            await socket.subscribe(id="1")
            await socket.subscribe(id="2")
            assert gauges() == (before[0] + 1, before[1] + 2)
            await socket.send({"type": "complete", "id": "1"})
            for _ in range(100):  # the subscription ends once its task, cancelled, has run on
                if gauges() != (before[0] + 1, before[1] + 2):
                    break
                await asyncio.sleep(0.01)
            assert gauges() == (before[0] + 1, before[1] + 1)

    run(scenario)
    assert gauges() == before


def test_a_subscriber_too_slow_to_read_its_events_is_disconnected():
    """Rather than let its backlog grow without end: the client reconnects and reads what it missed."""
    disconnected = []

    class SlowSocket:
        async def too_slow(self):
            disconnected.append(True)

    async def scenario():
        listener = Listener(SlowSocket())
        for _ in range(BACKLOG):
            listener.put("delivery")
        await asyncio.sleep(0)
        assert disconnected == []
        listener.put("one too many")
        await asyncio.sleep(0)
        assert disconnected == [True]

    run(scenario)


@override_settings(GRAPHQL_WS_CONNECTION_INIT_TIMEOUT=1)
def test_a_socket_that_does_not_initialise_is_closed():
    async def scenario():
        async with Socket() as socket:
            assert (await socket.closed()).code == 4408

    run(scenario)


# Failures outside every field.

NO_INTERNALS = "Error 111 connecting to db.internal:5432"


def internal_server_error(errors):
    (error,) = errors
    assert error["message"] == "Unexpected error." and NO_INTERNALS not in json.dumps(errors)
    return error["extensions"]["code"]


def test_a_subscription_that_fails_to_start_is_answered_an_internal_server_error(alice, monkeypatch):
    def explode(*args, **kwargs):
        raise ConnectionError(NO_INTERNALS)

    monkeypatch.setattr(limits, "_count", explode)  # a hook of the schema's extensions, before any field

    async def scenario():
        async with Socket() as socket:
            assert (await socket.init(await orm(bearer, alice)))["type"] == "connection_ack"
            (answer,) = await socket.subscribe()
            assert answer["type"] == "error"
            assert internal_server_error(answer["payload"]) == "INTERNAL_SERVER_ERROR"
            await socket.send({"type": "ping"})
            assert await socket.receive() == {"type": "pong"}, "the socket stays open"

    run(scenario)


def test_a_subscription_whose_results_cannot_be_shaped_ends_with_an_internal_server_error(alice, monkeypatch):
    from schema import errors

    shape_errors = errors._shape_errors
    shaped = []

    def only_the_first(result):  # the audit log unreachable from the second event on, say
        shaped.append(result)
        if len(shaped) > 1:
            raise ConnectionError(NO_INTERNALS)
        return shape_errors(result)

    monkeypatch.setattr(errors, "_shape_errors", only_the_first)

    async def scenario():
        async with Socket() as socket:
            assert (await socket.init(await orm(bearer, alice)))["type"] == "connection_ack"
            assert await socket.subscribe() == []
            await orm(services.create_task, alice, "First")
            assert event(await socket.receive())["task"]["title"] == "First"
            await orm(services.create_task, alice, "Second")
            last = await socket.receive()
            assert last["type"] == "next"
            assert internal_server_error(last["payload"]["errors"]) == "INTERNAL_SERVER_ERROR"
            assert await socket.receive() == {"id": "1", "type": "complete"}

    run(scenario)
