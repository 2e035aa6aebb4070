"""The test provider as a real server process: gunicorn on a free loopback port, stopped by pid."""

import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from accounts.oidc_providers import Provider
from tests.keys_util import private_pem
from tests.live_server import GunicornServer
from tests.oidc_provider.clients import CLIENTS

REDIRECT_URI = "http://127.0.0.1:3000/oidc/callback"
TIMEOUT = 30


@dataclass(frozen=True)
class ProviderUser:
    username: str
    email: str
    password: str


@dataclass(frozen=True)
class Redirect:
    """What the provider sent the browser back to the redirect URI with."""

    code: str
    state: str


class OidcProviderServer(GunicornServer):
    """django-oauth-toolkit with OIDC on (tests/oidc_provider), signing with an RSA key made here."""

    def __init__(self, folder, users):
        super().__init__(
            folder,
            app="tests.oidc_provider.wsgi:application",
            DJANGO_SETTINGS_MODULE="tests.oidc_provider.settings",
            PROVIDER_RSA_PRIVATE_KEY=private_pem("RSA-2048", "oidc provider"),
            PROVIDER_FORGERY_RSA_PRIVATE_KEY=private_pem("RSA-2048", "oidc forger"),
        )
        self.users = {user.username: user for user in users}
        self.credentials = {
            name: {"client_id": secrets.token_urlsafe(16), "client_secret": secrets.token_urlsafe(32)}
            for name in CLIENTS
        }

    def start(self):
        if not self.migrated:
            self.migrate()
            users = [vars(user) for user in self.users.values()]
            self.manage(
                "shell", "-c",
                "from tests.oidc_provider.populate import populate; "
                f"populate({users!r}, {self.credentials!r}, {REDIRECT_URI!r})",
            )  # fmt: skip
        return super().start()

    @property
    def issuer(self):
        return f"{self.origin}/o"

    def provider(self, client, name=None):
        """How the server under test is configured for `client` (a name of misbehaviour.CLIENTS)."""
        return Provider(name=name or client, issuer=self.issuer, scopes=("openid", "email", "profile"),
                        **self.credentials[client])  # fmt: skip

    def providers_setting(self):
        """OIDC_PROVIDERS for every client, each provider named after its client."""
        return tuple(self.provider(client) for client in CLIENTS)

    def sign_in(self, authorization_url, username):
        """What a person's browser does with the authorization URL: sign in at the provider, which
        then redirects back to the redirect URI with a code (the client skips the consent page)."""
        browser = requests.Session()
        login_page = browser.get(authorization_url, timeout=TIMEOUT)
        assert urlsplit(login_page.url).path == "/accounts/login/", login_page.url
        answer = browser.post(
            login_page.url,
            data={
                "username": username,
                "password": self.users[username].password,
                "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            },
            allow_redirects=False,
            timeout=TIMEOUT,
        )
        while answer.is_redirect:
            location = urljoin(answer.url, answer.headers["Location"])
            if location.startswith(REDIRECT_URI):
                query = parse_qs(urlsplit(location).query)
                assert "error" not in query, query
                return Redirect(code=query["code"][0], state=query["state"][0])
            answer = browser.get(location, allow_redirects=False, timeout=TIMEOUT)
        raise AssertionError(f"the provider did not redirect back: {answer.status_code} {answer.text[:500]}")
