"""Every GraphQL operation shown in README.md and docs/ is valid, and is run here as documented.

An example is a ```graphql fenced block. Each operation in it has a name, unique across the docs
(the same name twice must be the same text), and the scenario below runs every named operation
through the real endpoint, in an order a client would, and checks its answer. A documented
operation that no step runs fails the suite, and so does a step whose operation is gone from the
docs: the two cannot drift apart.
"""

import re
from pathlib import Path

import pyotp
import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import override_settings
from graphql import OperationDefinitionNode, parse, print_ast, validate

from accounts.codenames import CHANGE_USER
from accounts.models import User
from schema.schema import schema
from tasks.codenames import CHANGE_TASK
from tests.graphql_util import PASSWORD, GraphQLClient
from tests.mail_util import delivered, run_mail_queue, token_in
from tests.sockets import Socket

ROOT = Path(settings.BASE_DIR)
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
GRAPHQL_BLOCK = re.compile(r"^[ \t]*```graphql[ \t]*\n(.*?)^[ \t]*```", re.DOTALL | re.MULTILINE)


def documented_blocks():
    """(file, block text) of every ```graphql block, its indentation (inside lists) removed."""
    for path in DOCUMENTS:
        for match in GRAPHQL_BLOCK.finditer(path.read_text()):
            yield path.relative_to(ROOT), match[1]


def documented_operations():
    """{operation name: the whole block it is in}; ValueError for an unnamed or ambiguous one."""
    operations = {}
    for path, block in documented_blocks():
        document = parse(block)
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if definition.name is None:
                raise ValueError(f"{path}: give every example operation a name:\n{print_ast(definition)}")
            name = definition.name.value
            known = operations.get(name)
            if known is not None and print_ast(_operation(known, name)) != print_ast(definition):
                raise ValueError(f"{path}: two different operations are named {name}")
            operations[name] = block
    return operations


def _operation(block, name):
    return next(
        definition
        for definition in parse(block).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name.value == name
    )


def test_docs_show_graphql_examples():
    assert len(documented_operations()) >= 10


@pytest.mark.parametrize("path,block", list(documented_blocks()), ids=lambda value: str(value)[:40])
def test_every_example_is_valid_against_the_schema(path, block):
    assert [error.message for error in validate(schema._schema, parse(block))] == []


GRAPHIQL_SOURCES = ROOT / "schema" / "graphiql" / "src"
EMBEDDED_OPERATION = re.compile(r"`(?:#[^\n]*\n|\s)*((?:query|mutation) [A-Za-z]+.*?)`", re.DOTALL)


def test_the_operations_graphiql_sends_are_the_documented_ones():
    documented = documented_operations()
    sent = [
        operation
        for source in sorted(GRAPHIQL_SOURCES.glob("*.js*"))
        for operation in EMBEDDED_OPERATION.findall(source.read_text())
    ]
    assert len(sent) == 4
    for text in sent:
        (operation,) = parse(text).definitions
        assert print_ast(operation) == print_ast(_operation(documented[operation.name.value], operation.name.value))


class Docs:
    """Runs documented operations by name and remembers which ran."""

    def __init__(self):
        self.operations = documented_operations()
        self.ran = set()

    def run(self, client, name, /, **variables):
        self.ran.add(name)
        response = client.http.post(
            "/graphql/",
            data={"query": self.operations[name], "variables": variables, "operationName": name},
            content_type="application/json",
            **client.headers,
        )
        assert response.status_code == 200, response.content
        return response.json()

    def data(self, client, name, /, **variables):
        """The data of an operation that must succeed."""
        result = self.run(client, name, **variables)
        assert "errors" not in result, (name, result)
        return result["data"]

    def first_event(self, access, name, change):
        """Subscribe over the WebSocket with the access token `access`, make `change()`, and answer
        the subscription's first message."""
        self.ran.add(name)

        async def scenario():
            async with Socket() as socket:
                await socket.init({"Authorization": f"Bearer {access}"})
                assert await socket.subscribe(self.operations[name], operation_name=name) == []
                await sync_to_async(change)()
                return await socket.receive()

        return async_to_sync(scenario)()


def grant(user, role_name, *codenames):
    from django.contrib.auth.models import Group, Permission

    role, _ = Group.objects.get_or_create(name=role_name)
    for codename in codenames:
        app_label, name = codename.split(".")
        role.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
    if user is not None:
        user.groups.add(role)


def sign_in_with_the_test_openid_provider(docs, oidc_provider):
    """docs/oidc.md, against the real provider the OIDC tests use (tests/oidc_provider): a
    frontend lists the providers, starts, sends the browser to the URL, and finishes with the
    code and state the provider redirects back with."""
    from tests.oidc_provider.server import REDIRECT_URI

    provider = oidc_provider.provider("honest", name="acme")
    with override_settings(OIDC_PROVIDERS=(provider,), OIDC_REDIRECT_URIS=(REDIRECT_URI,)):
        frontend = GraphQLClient()
        assert docs.data(frontend, "OidcProviders") == {"oidcProviders": [{"name": "acme"}]}
        started = docs.data(frontend, "StartOidcLogin", provider="acme", redirectUri=REDIRECT_URI)
        back = oidc_provider.sign_in(started["oidcAuthorizationUrl"]["url"], "ada")
        assert back.state == started["oidcAuthorizationUrl"]["state"]
        signed_in = docs.data(frontend, "FinishOidcLogin", provider="acme", code=back.code, state=back.state)
        user = signed_in["oidcLogin"]["user"]
        assert (user["username"], user["emailVerified"], user["identities"]) == ("ada", True, ["acme"])
        ada = GraphQLClient().authenticate(signed_in["oidcLogin"]["access"])
        assert docs.data(ada, "MyIdentities") == {"me": {"username": "ada", "identities": ["acme"]}}


# The scenario logs in more often than the default limit allows one client address in a minute,
# and checks alice's password more than five times (logins, TOTP, a key) from her one budget.
# It commits (transactional_db): a subscription hears changes once they commit, and Channels'
# database_sync_to_async closes a connection held open in a test's transaction.
@override_settings(LOGIN_RATE_LIMIT="100/m")
def test_every_documented_operation_runs_as_documented(transactional_db, oidc_provider):
    docs = Docs()
    anonymous = GraphQLClient()

    # README: the auth flow.
    registered = docs.data(
        anonymous,
        "Register",
        input={"username": "alice", "email": "alice@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD},
    )["register"]
    assert registered["username"] == "alice"
    tokens = docs.data(anonymous, "Login", username="alice", password=PASSWORD)["tokenAuth"]
    alice = GraphQLClient().authenticate(tokens["access"])
    assert docs.data(alice, "Me")["me"]["email"] == "alice@example.com"
    refreshed = docs.data(anonymous, "Refresh", refresh=tokens["refresh"])["refreshToken"]
    alice = GraphQLClient().authenticate(refreshed["access"])

    # docs/tasks.md
    milk = docs.data(alice, "CreateTask", input={"title": "Buy milk", "description": "Two litres"})["createTask"]
    docs.data(alice, "CreateTask", input={"title": "Buy bread"})
    assert docs.data(alice, "CompleteTask", id=milk["id"])["updateTask"]["completed"] is True
    assert docs.data(alice, "Task", id=milk["id"])["task"]["owner"]["username"] == "alice"
    open_tasks = docs.data(alice, "OpenTasks", search="bread")["tasks"]
    assert [edge["node"]["title"] for edge in open_tasks["edges"]] == ["Buy bread"]
    assert [edge["node"]["title"] for edge in docs.data(alice, "MyTasks")["me"]["tasks"]["edges"]] == [
        "Buy bread",
        "Buy milk",
    ]
    assert docs.data(alice, "DeleteTask", id=milk["id"])["deleteTask"]["deletedId"] == milk["id"]

    admin = User.objects.create_user("root", "root@example.org", PASSWORD, is_staff=True)
    grant(admin, "user managers", CHANGE_USER, CHANGE_TASK)
    grant(None, "editors", CHANGE_TASK)
    admin_login = docs.data(anonymous, "Login", username="root", password=PASSWORD)["tokenAuth"]
    admin_client = GraphQLClient().authenticate(admin_login["access"])
    users = docs.data(admin_client, "Users", search="example.org")["users"]["edges"]
    assert [edge["node"]["username"] for edge in users] == ["root"]
    given = docs.data(admin_client, "SetUserRoles", user=registered["id"], roles=["editors"])["setUserRoles"]
    assert given["roles"] == ["editors"]

    # docs/totp-and-api-keys.md
    secret = docs.data(alice, "SetupTotp")["setupTotp"]["secret"]
    totp = pyotp.TOTP(secret)
    recovery_codes = docs.data(alice, "ConfirmTotp", code=totp.now(), password=PASSWORD)["confirmTotp"]["recoveryCodes"]
    assert len(recovery_codes) == 10
    refused = docs.run(anonymous, "Login", username="alice", password=PASSWORD)
    assert refused["errors"][0]["extensions"]["code"] == "OTP_REQUIRED"
    with_code = docs.data(anonymous, "Login", username="alice", password=PASSWORD, otp=recovery_codes[0])
    alice = GraphQLClient().authenticate(with_code["tokenAuth"]["access"])
    assert docs.data(alice, "DisableTotp", password=PASSWORD, code=recovery_codes[1])["disableTotp"] is True
    key = docs.data(alice, "CreateApiKey", name="nightly report", readOnly=True, password=PASSWORD)
    assert key["createApiKey"]["apiKey"]["expiresAt"] is not None
    assert key["createApiKey"]["secret"].startswith(key["createApiKey"]["apiKey"]["prefix"])

    assert docs.data(anonymous, "Logout", refresh=refreshed["refresh"])["revokeToken"]["revoked"] is True

    # docs/clients/graphiql.md: what the sign-in panel sends.
    signed_in = docs.data(anonymous, "SignIn", username="root", password=PASSWORD)["tokenAuth"]
    renewed = docs.data(anonymous, "RenewSignIn", refresh=signed_in["refresh"])["refreshToken"]
    panel = GraphQLClient().authenticate(renewed["access"])
    assert docs.data(panel, "WhoAmI") == {"me": {"username": "root"}}
    assert docs.data(anonymous, "SignOut", refresh=renewed["refresh"])["revokeToken"]["revoked"] is True

    # docs/clients/apollo.md, codegen.md, relay.md: what the example clients send, from an
    # address of their own (the logins above used up this minute's five from 127.0.0.1).
    User.objects.create_user("dana", "dana@example.com", PASSWORD)
    from_elsewhere = GraphQLClient()
    from_elsewhere.headers = {"REMOTE_ADDR": "192.0.2.10"}
    relay_login = docs.data(from_elsewhere, "accountLoginMutation", username="dana", password=PASSWORD)["tokenAuth"]
    assert relay_login["user"] == {"username": "dana"}
    renewed = docs.data(from_elsewhere, "environmentRefreshMutation", refresh=relay_login["refresh"])["refreshToken"]
    renewed = docs.data(from_elsewhere, "RefreshToken", refresh=renewed["refresh"])["refreshToken"]
    dana = GraphQLClient().authenticate(renewed["access"])
    for title in ("first", "second", "third"):
        assert docs.data(dana, "AddTask", input={"title": title})["createTask"]["title"] == title
    page = docs.data(dana, "Tasks", first=2)["tasks"]
    assert [edge["node"]["title"] for edge in page["edges"]] == ["third", "second"]
    assert page["pageInfo"]["hasNextPage"] is True
    last = docs.data(dana, "Tasks", first=2, after=page["pageInfo"]["endCursor"])["tasks"]
    assert [edge["node"]["title"] for edge in last["edges"]] == ["first"]
    relay_page = docs.data(dana, "TaskListPaginationQuery", cursor=page["pageInfo"]["endCursor"])["tasks"]
    assert [edge["node"]["title"] for edge in relay_page["edges"]] == ["first"]
    assert relay_page["pageInfo"]["hasNextPage"] is False

    # docs/security.md: the budget, asked without spending from it, then with.
    before = docs.data(dana, "RateLimit", dryRun=True)["rateLimit"]
    after = docs.data(dana, "RateLimit")["rateLimit"]
    assert (before["cost"], after["cost"], after["used"]) == (1, 1, before["used"] + 1)
    assert after["used"] + after["remaining"] == after["limit"] == 5000

    # docs/subscriptions.md: Dana hears her own change, once it commits.
    def add_task():
        docs.data(dana, "AddTask", input={"title": "heard live"})

    message = docs.first_event(renewed["access"], "TaskEvents", add_task)
    assert message["payload"]["data"]["taskEvents"]["task"]["title"] == "heard live"

    # docs/recovery.md: alice proves her address, moves to another, and resets her password.
    assert docs.data(alice, "MyAddress")["me"] == {"email": "alice@example.com", "emailVerified": False}
    assert docs.data(alice, "ResendVerificationEmail")["resendVerificationEmail"] is True
    run_mail_queue()
    first_link, second_link = delivered("alice@example.com")
    assert docs.data(anonymous, "VerifyEmail", token=token_in(second_link))["verifyEmail"] is True
    assert docs.data(alice, "ChangeEmail", newEmail="alice@new.example", password=PASSWORD)["changeEmail"] is True
    run_mail_queue()
    (change_link,) = delivered("alice@new.example")
    assert docs.data(anonymous, "VerifyEmail", token=token_in(change_link))["verifyEmail"] is True
    assert docs.data(alice, "MyAddress")["me"] == {"email": "alice@new.example", "emailVerified": True}
    assert docs.data(anonymous, "RequestPasswordReset", email="ALICE@new.example")["requestPasswordReset"] is True
    run_mail_queue()
    (reset_link,) = delivered("alice@new.example")[1:]
    reset = docs.data(anonymous, "ResetPassword", token=token_in(reset_link), newPassword="a forgotten passphrase")
    assert reset["resetPassword"] is True
    assert docs.run(alice, "MyAddress")["errors"][0]["extensions"]["reason"] == "token_revoked"

    # docs/sessions.md and docs/clients/browser-sessions.md: a browser keeps the refresh token in a cookie.
    User.objects.create_user("erin", "erin@example.com", PASSWORD)
    browser = GraphQLClient()
    browser.headers = {"HTTP_ORIGIN": "http://testserver"}
    signed_in = docs.data(browser, "BrowserLogin", username="erin", password=PASSWORD)["tokenAuth"]
    assert signed_in["refresh"] is None and browser.http.cookies["__Host-refresh"].value
    renewed = docs.data(browser, "BrowserRefresh")["refreshToken"]
    assert renewed["refresh"] is None
    erin = GraphQLClient().authenticate(renewed["access"])
    assert docs.data(erin, "Me")["me"]["username"] == "erin"
    assert docs.data(browser, "BrowserLogout")["revokeToken"]["revoked"] is True
    assert browser.http.cookies["__Host-refresh"].value == ""

    sign_in_with_the_test_openid_provider(docs, oidc_provider)

    assert docs.ran == set(docs.operations), "documented operations that no step runs (or steps without docs)"
