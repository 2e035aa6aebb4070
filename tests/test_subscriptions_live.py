"""taskEvents over real sockets: uvicorn serving project.asgi on a free loopback port, the
`websockets` client, changes made over HTTP, by another process, and across server processes.

Without REDIS_URL the servers run as `make run` does (events within one process; revocation made
by another process still reaches the socket, through the server's periodic recheck). With it,
two uvicorn servers and a gunicorn (WSGI) one share one database and Redis, as the processes of
one deployment do: a change made through any of them reaches subscribers of the others.
"""

import asyncio
import os
import secrets

import pytest
import websockets

from tests.live_server import GunicornServer, UvicornServer
from tests.sockets import TASK_EVENTS, Closed, LiveSocket

pytestmark = pytest.mark.slow

PASSWORD = "a long enough passphrase"
LOGIN = "mutation ($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }"
CREATE = "mutation ($title: String!) { createTask(input: {title: $title}) { id } }"
UPDATE = "mutation ($id: ID!) { updateTask(id: $id, input: {completed: true}) { id } }"
DELETE = "mutation ($id: ID!) { deleteTask(id: $id) { deletedId } }"
CREATE_KEY = 'mutation ($p: String!) { createApiKey(name: "socket", password: $p) { apiKey { id } secret } }'
REVOKE_KEY = "mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }"
OWNER_EMAIL = "subscription OwnerEmails { taskEvents { kind task { title owner { username email } } } }"
TITLES = "subscription Titles { taskEvents { kind task { title } } }"
USERNAMES = ("alice", "bob", "carol", "dave", "erin", "frank")


def environment(**overrides):
    return {"LOGIN_RATE_LIMIT": "100/m", **overrides}


def add_users(server):
    """alice, bob, carol (who holds tasks.view_task), dave, erin and frank, in one process."""
    server.migrate()
    server.manage(
        "shell", "-c",
        "from django.contrib.auth.models import Permission; from accounts.models import User\n"
        f"for name in {USERNAMES!r}: User.objects.create_user(name, f'{{name}}@example.com', {PASSWORD!r})\n"
        "User.objects.get(username='carol').user_permissions.add(Permission.objects.get(codename='view_task'))",
    )  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = UvicornServer(tmp_path_factory.mktemp("uvicorn"), **environment())
    add_users(server)
    yield server.start()
    server.stop()


class Client:
    """One user's HTTP calls to a server, off the event loop the sockets use."""

    def __init__(self, server, username):
        self.server = server
        self.access = server.post(LOGIN, {"u": username, "p": PASSWORD})["data"]["tokenAuth"]["access"]

    @property
    def credential(self):
        return {"Authorization": f"Bearer {self.access}"}

    async def call(self, query, **variables):
        result = await asyncio.to_thread(self.server.post, query, variables, token=self.access)
        assert "errors" not in result, result
        return result["data"]


def run(scenario):
    asyncio.run(scenario())


def data_of(message):
    assert message["type"] == "next", message
    return message["payload"]["data"]["taskEvents"]


def test_the_owner_hears_creation_change_and_deletion_over_a_real_socket(server):
    alice = Client(server, "alice")

    async def scenario():
        async with LiveSocket(server) as socket:
            assert (await socket.init(alice.credential))["type"] == "connection_ack"
            assert await socket.subscribe() == []
            task_id = (await alice.call(CREATE, title="Over the wire"))["createTask"]["id"]
            created = data_of(await socket.receive())
            assert (created["kind"], created["task"]["id"], created["task"]["owner"]) == (
                "CREATED", task_id, {"username": "alice", "email": "alice@example.com"}
            )  # fmt: skip
            await alice.call(UPDATE, id=task_id)
            assert data_of(await socket.receive())["task"]["completed"] is True
            await alice.call(DELETE, id=task_id)
            assert data_of(await socket.receive()) == {"kind": "DELETED", "deletedId": task_id, "task": None}

    run(scenario)


def test_an_api_key_authenticates_a_real_socket_and_closes_it_when_revoked(server):
    dave = Client(server, "dave")

    async def scenario():
        key = (await dave.call(CREATE_KEY, p=PASSWORD))["createApiKey"]
        async with LiveSocket(server) as socket:
            assert (await socket.init({"x-api-key": key["secret"]}))["type"] == "connection_ack"
            await socket.subscribe(TITLES)
            await dave.call(CREATE, title="Heard by the key")
            assert data_of(await socket.receive())["task"]["title"] == "Heard by the key"
            await dave.call(REVOKE_KEY, id=key["apiKey"]["id"])
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "api_key_invalid")

    run(scenario)


def test_refusals_over_a_real_socket(server):
    async def scenario():
        async with LiveSocket(server) as socket:
            with pytest.raises(Closed) as closed:
                await socket.init({"Authorization": "Bearer forged"})
            assert (closed.value.code, closed.value.reason) == (4403, "token_invalid")
        async with LiveSocket(server) as socket:
            await socket.init()
            (answer,) = await socket.subscribe()
            assert answer["type"] == "error"
            assert answer["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        for handshake in ({"origin": "http://evil.example"}, {"subprotocols": ("graphql-ws",)}):
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with LiveSocket(server, **handshake):
                    pass
            assert refused.value.response.status_code == 403
        async with LiveSocket(server, origin=server.origin) as socket:
            assert (await socket.init())["type"] == "connection_ack"

    run(scenario)


def test_each_subscriber_hears_what_a_query_of_theirs_would_read(server):
    alice, bob, carol = (Client(server, name) for name in ("alice", "bob", "carol"))

    async def scenario():
        async with LiveSocket(server) as bobs, LiveSocket(server) as carols:
            await bobs.init(bob.credential)
            await bobs.subscribe(TITLES)
            await carols.init(carol.credential)
            await carols.subscribe(OWNER_EMAIL)
            await alice.call(CREATE, title="Alice's")
            message = await carols.receive()
            assert message["payload"]["data"]["taskEvents"]["task"] == {
                "title": "Alice's",
                "owner": {"username": "alice", "email": None},
            }
            assert [(e["path"], e["extensions"]["code"]) for e in message["payload"]["errors"]] == [
                (["taskEvents", "task", "owner", "email"], "FORBIDDEN")
            ]
            await bob.call(CREATE, title="Bob's")
            assert data_of(await bobs.receive())["task"]["title"] == "Bob's"  # not Alice's before it

    run(scenario)


def test_the_twenty_first_subscription_of_a_real_socket_is_refused(server):
    erin = Client(server, "erin")

    async def scenario():
        async with LiveSocket(server) as socket:
            await socket.init(erin.credential)
            for number in range(1, 21):
                assert await socket.subscribe(TITLES, id=str(number)) == []
            (answer,) = await socket.subscribe(TITLES, id="21")
            assert answer["type"] == "error"
            assert answer["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    run(scenario)


def test_revocation_by_another_process_closes_a_real_socket_without_redis(server):
    """A management command deactivates the user: no request, no broadcast, no event flowing."""
    frank = Client(server, "frank")
    deactivate = "from accounts.models import User; User.objects.filter(username='frank').update(is_active=False)"

    async def scenario():
        async with LiveSocket(server) as socket:
            await socket.init(frank.credential)
            await socket.subscribe(TITLES)
            await asyncio.to_thread(server.manage, "shell", "-c", deactivate)
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "token_revoked")

    run(scenario)


def test_revoking_the_session_over_http_closes_a_real_socket(server):
    alice = Client(server, "alice")

    async def scenario():
        async with LiveSocket(server) as socket:
            await socket.init(alice.credential)
            await socket.subscribe(TITLES)
            assert (await alice.call("mutation { revokeAllTokens }"))["revokeAllTokens"] >= 1
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "token_revoked")

    run(scenario)


def test_a_real_socket_closes_when_its_access_token_expires(tmp_path):
    # Long enough for the login, the handshake and the subscription on a loaded machine.
    server = UvicornServer(tmp_path, **environment(JWT_ACCESS_TOKEN_LIFETIME="5"))
    server.create_user("alice", PASSWORD)
    server.start()
    try:
        alice = Client(server, "alice")

        async def scenario():
            async with LiveSocket(server) as socket:
                await socket.init(alice.credential)
                await socket.subscribe(TITLES)
                closed = await socket.closed()
                assert (closed.code, closed.reason) == (4403, "token_expired")

        run(scenario)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    """Two uvicorn servers and a gunicorn one: one database, one secret key, one Redis."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("across processes, events travel through Redis: set REDIS_URL")
    folder = tmp_path_factory.mktemp("deployment")
    shared = environment(
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite:///{folder / 'db.sqlite3'}",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
    )
    servers = [
        UvicornServer(folder / "a", **shared),
        UvicornServer(folder / "b", **shared),
        GunicornServer(folder / "wsgi", **shared),
    ]
    for each in servers:
        each.folder.mkdir()
    add_users(servers[0])
    for each in servers:
        each.migrated = True
        each.start()
    yield servers
    for each in servers:
        each.stop()


def test_changes_made_through_any_process_reach_subscribers_of_another(deployment):
    one, other, wsgi = deployment
    alice_on_other, alice_on_wsgi = Client(other, "alice"), Client(wsgi, "alice")
    alice_on_one = Client(one, "alice")

    async def scenario():
        async with LiveSocket(one) as socket:
            await socket.init(alice_on_one.credential)
            await socket.subscribe(TITLES)
            await alice_on_other.call(CREATE, title="Through the other ASGI server")
            assert data_of(await socket.receive())["task"]["title"] == "Through the other ASGI server"
            await alice_on_wsgi.call(CREATE, title="Through the WSGI server")
            assert data_of(await socket.receive())["task"]["title"] == "Through the WSGI server"
            await alice_on_other.call("mutation { revokeAllTokens }")
            closed = await socket.closed()
            assert (closed.code, closed.reason) == (4403, "token_revoked")

    run(scenario)


def test_a_subscriber_of_each_server_hears_a_change_once(deployment):
    one, other, _ = deployment
    bob_on_one, bob_on_other = Client(one, "bob"), Client(other, "bob")

    async def scenario():
        async with LiveSocket(one) as first, LiveSocket(other) as second:
            await first.init(bob_on_one.credential)
            await first.subscribe(TASK_EVENTS)
            await second.init(bob_on_other.credential)
            await second.subscribe(TASK_EVENTS)
            await bob_on_one.call(CREATE, title="Heard everywhere")
            await bob_on_one.call(CREATE, title="And then this")
            for socket in (first, second):
                titles = [data_of(await socket.receive())["task"]["title"] for _ in range(2)]
                assert titles == ["Heard everywhere", "And then this"]

    run(scenario)
