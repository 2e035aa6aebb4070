"""GraphiQL in headless Chromium against a live server (issue 8, items 4 and 5).

gunicorn serves the app with production settings and GRAPHIQL=1; the bundle that
`make graphiql` built from npm packages is gathered by collectstatic and served by whitenoise,
as in production. Chromium is Debian's package, driven by Playwright, which never downloads a
browser of its own here. Without Chromium the tests skip, unless REQUIRE_BROWSER_TESTS=1 (CI).
When a test fails, a screenshot of the page is kept in its tmp_path as failure.png.
"""

import json
import os
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pyotp
import pytest
from django.conf import settings
from playwright.sync_api import expect, sync_playwright

from tests.live_server import GunicornServer

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
# Playwright starts each browser with a fresh temporary profile (--user-data-dir) of its own.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BUNDLE = settings.BASE_DIR / "schema" / "static" / "graphiql" / "graphiql.js"
PASSWORD = "a long enough passphrase"
TOTP_SECRET = pyotp.random_base32()
# Access tokens live 6 s, so the panel refreshes them while the test runs (at 80% of their life).
ACCESS_TOKEN_SECONDS = 6
# A loaded machine may take a while to start Monaco and its workers.
expect.set_options(timeout=20_000)


@pytest.fixture(autouse=True)
def clear_cache():
    """The server has its own database and cache; this process touches neither (and Django's
    database layer refuses to run beside Playwright's event loop)."""


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (Debian's package) runs these tests"
        if os.environ.get("REQUIRE_BROWSER_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    assert BUNDLE.exists(), "GraphiQL's bundle is not built: `make graphiql` builds it (it needs Node.js 20+)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("graphiql-server")
    server = GunicornServer(
        folder,
        GRAPHIQL="1",
        GRAPHQL_INTROSPECTION="1",
        DJANGO_STATIC_ROOT=str(folder / "static"),
        JWT_ACCESS_TOKEN_LIFETIME=str(ACCESS_TOKEN_SECONDS),
        # A limit these tests are not about.
        LOGIN_RATE_LIMIT="60/m",
    )
    server.manage("collectstatic", "--noinput")
    for username in ("alice", "otto"):
        server.create_user(username, PASSWORD)
    server.start()
    server.manage(
        "shell", "-c",
        "from django.utils import timezone; from accounts.models import TotpDevice, User; "
        f"TotpDevice.objects.create(user=User.objects.get(username='otto'), secret={TOTP_SECRET!r}, "
        "confirmed_at=timezone.now())",
    )  # fmt: skip
    yield server
    server.stop()


class GraphiQLPage:
    """One browser tab on GraphiQL, recording every request it makes and every error it shows."""

    def __init__(self, browser, origin):
        self.origin = origin
        self.context = browser.new_context(viewport={"width": 1400, "height": 900})
        self.requests, self.errors, self.responses = [], [], {}
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on("response", lambda response: self.responses.setdefault(response.url, response))
        self.token_answers = []  # tokenAuth and refreshToken answers, in order
        self.context.on("response", lambda response: is_token_request(response) and self.token_answers.append(response))
        self.page = self.context.new_page()
        self.page.on("websocket", lambda socket: self.requests.append(socket.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def open(self):
        """The page's answer, once the page and everything it asked for have loaded (or failed to)."""
        return self.page.goto(f"{self.origin}/graphql/", wait_until="networkidle")

    @property
    def query_editor(self):
        return self.page.locator(".graphiql-query-editor .view-lines")

    def sidebar(self, plugin):
        self.page.get_by_role("button", name=f"Show {plugin}").click()

    @property
    def panel(self):
        return self.page.locator(".sign-in-panel")

    def sign_in(self, username, password, otp=""):
        self.panel.get_by_label("Username").fill(username)
        self.panel.get_by_label("Password").fill(password)
        self.panel.get_by_label("One-time code").fill(otp)
        self.panel.get_by_role("button", name="Sign in", exact=True).click()

    @property
    def headers_editor(self):
        return self.page.locator(".graphiql-editor-tool .graphiql-editor").filter(has_text="{").locator(".view-lines")

    def run(self):
        with self.page.expect_response(lambda response: "query WhoAmI" in (response.request.post_data or "")) as answer:
            self.page.get_by_role("button", name="Execute query").click()
        return answer.value

    def issued(self):
        """Every pair of tokens the page was given so far, the newest last."""
        return [tokens_of(answer) for answer in self.token_answers if "errors" not in answer.json()]

    def stored(self):
        """Everything the page keeps beyond its memory."""
        return self.page.evaluate("JSON.stringify([localStorage, sessionStorage, document.cookie])")

    def other_origins(self):
        return [url for url in self.requests if not url.startswith((f"{self.origin}/", "data:"))]


@contextmanager
def graphiql(browser, server, tmp_path):
    tab = GraphiQLPage(browser, server.origin)
    try:
        yield tab
    except BaseException:
        tab.page.screenshot(path=tmp_path / "failure.png", full_page=True)
        raise
    finally:
        tab.context.close()


def tokens_of(response):
    """The access and refresh tokens of a tokenAuth or refreshToken answer."""
    (payload,) = response.json()["data"].values()
    return {"access": payload["access"], "refresh": payload["refresh"]}


def is_mutation(name):
    return lambda response: f"mutation {name}" in (response.request.post_data or "")


def is_token_request(response):
    return is_mutation("SignIn")(response) or is_mutation("RenewSignIn")(response)


def refresh_token(server, refresh):
    query = "mutation ($r: String!) { refreshToken(refresh: $r) { access } }"
    body = json.dumps({"query": query, "variables": {"r": refresh}})
    request = urllib.request.Request(
        f"{server.origin}/graphql/", data=body.encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_signing_in_from_graphiql_and_running_a_query(chromium, server, tmp_path):
    with graphiql(chromium, server, tmp_path) as tab:
        page = tab.page
        response = tab.open()
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert tab.other_origins() == []
        expect(tab.query_editor).to_contain_text("query WhoAmI")
        # whitenoise sends the gzip copy that collectstatic wrote.
        assert tab.responses[f"{server.origin}/static/graphiql/graphiql.js"].headers["content-encoding"] == "gzip"

        tab.sidebar("Documentation Explorer")
        expect(page.locator(".graphiql-doc-explorer")).to_contain_text("query: Query")
        tab.sidebar("GraphiQL Explorer")
        expect(page.locator(".graphiql-explorer-root")).to_contain_text("totpEnabled")

        tab.sidebar("Sign in")
        tab.sign_in("alice", "not her password")
        expect(tab.panel.get_by_role("alert")).to_have_text("Wrong username or password.")

        tab.sign_in("alice", PASSWORD)
        expect(tab.panel.get_by_role("status")).to_have_text("Signed in as alice.")
        expect(tab.headers_editor).to_contain_text(f'"Authorization": "Bearer {tab.issued()[0]["access"]}"')

        # The panel refreshes the access token before it expires, one refresh at a time: two
        # refreshes at once would present one refresh token twice, which revokes the session.
        for refreshes in (1, 2):
            with page.expect_response(is_mutation("RenewSignIn"), timeout=ACCESS_TOKEN_SECONDS * 2000):
                pass
            expect(tab.headers_editor).to_contain_text(f"Bearer {tab.issued()[refreshes]['access']}")

        answer = tab.run()
        assert answer.request.headers["authorization"] in {f"Bearer {pair['access']}" for pair in tab.issued()[2:]}
        assert answer.json() == {"data": {"me": {"username": "alice"}}}
        expect(page.locator(".graphiql-response .view-lines")).to_contain_text('"username": "alice"')

        stored = tab.stored()
        assert "graphiql:queries" in stored  # the history plugin wrote the operation and its headers...
        assert not [token for pair in tab.issued() for token in pair.values() if token in stored]  # ...but no token
        page.screenshot(path=tmp_path / "graphiql-signed-in.png")

        with page.expect_response(is_mutation("SignOut")):
            tab.panel.get_by_role("button", name="Sign out").click()
        expect(tab.panel.get_by_label("Username")).to_be_visible()
        expect(tab.headers_editor).not_to_contain_text("Authorization")
        refused = refresh_token(server, tab.issued()[-1]["refresh"])
        assert refused["errors"][0]["extensions"]["reason"] == "token_revoked"

        assert tab.other_origins() == []
        assert tab.errors == []


def test_two_factor_login_asks_for_the_code(chromium, server, tmp_path):
    with graphiql(chromium, server, tmp_path) as tab:
        tab.open()
        expect(tab.query_editor).to_contain_text("query WhoAmI")
        tab.sidebar("Sign in")
        tab.sign_in("otto", PASSWORD)
        expect(tab.panel.get_by_role("alert")).to_contain_text("two-factor login")
        expect(tab.panel.get_by_text("Required for this account.")).to_be_visible()

        wrong_code = f"{(int(pyotp.TOTP(TOTP_SECRET).now()) + 1) % 10**6:06d}"
        tab.sign_in("otto", PASSWORD, otp=wrong_code)
        expect(tab.panel.get_by_role("alert")).to_have_text("That code is wrong, expired or already used.")

        tab.sign_in("otto", PASSWORD, otp=pyotp.TOTP(TOTP_SECRET).now())
        expect(tab.panel.get_by_role("status")).to_have_text("Signed in as otto.")
        assert tab.other_origins() == []
