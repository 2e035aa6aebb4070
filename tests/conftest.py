import json
import re

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.test import Client

from accounts.models import User

PASSWORD = "correct horse battery staple"


class GraphQLClient:
    """Talks to /graphql/ through Django's full HTTP stack, like a real client would."""

    def __init__(self):
        self.http = Client()
        self.headers = {}

    def authenticate(self, access_token):
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token}"}
        return self

    def execute(self, query, variables=None, **extra):
        response = self.http.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type="application/json",
            **{**self.headers, **extra},
        )
        assert response.status_code == 200, response.content
        return response.json()

    def login(self, username, password=PASSWORD):
        result = self.execute(LOGIN, {"username": username, "password": password})
        assert "errors" not in result, result
        return result["data"]["tokenAuth"]


LOGIN = """
mutation Login($username: String!, $password: String!, $otp: String) {
  tokenAuth(username: $username, password: $password, otp: $otp) {
    access refresh accessExpiresAt refreshExpiresAt user { id username }
  }
}
"""


def error_codes(result):
    return [error["extensions"]["code"] for error in result.get("errors", [])]


def only_error(result):
    assert len(result.get("errors", [])) == 1, result
    return result["errors"][0]


def data_queries(captured):
    """The SQL of captured queries, less the rate-limit counters' (every operation spends from its
    viewer's budget there: a table without REDIS_URL, no SQL at all with it) and savepoints."""
    counters = settings.CACHES[settings.RATELIMIT_USE_CACHE].get("LOCATION")
    return [
        query["sql"]
        for query in captured
        if not (counters in query["sql"] or SAVEPOINT.match(query["sql"]))
    ]


SAVEPOINT = re.compile(r"(ROLLBACK TO |RELEASE )?SAVEPOINT ")


def shares_the_cache():
    """Whether other test processes use this cache too: Redis under parallel workers, where each
    worker's keys carry its own prefix (project/test_settings.py)."""
    return bool(settings.CACHES["default"].get("KEY_PREFIX"))


def delete_cache_keys(prefix):
    """Delete the keys made under `prefix` ("" for none) in the shared Redis cache."""
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def clear_own_cache():
    """Empty the default cache and the rate-limit counters' (both in the one Redis, when it is shared)."""
    if shares_the_cache():
        delete_cache_keys(settings.CACHES["default"]["KEY_PREFIX"])
    else:
        for each in caches.all():
            each.clear()


@pytest.fixture(autouse=True)
def clear_cache(db):
    clear_own_cache()
    yield
    clear_own_cache()


@pytest.fixture
def gql():
    return GraphQLClient()


@pytest.fixture
def make_user(db):
    def make(username="alice", password=PASSWORD, **fields):
        fields.setdefault("email", f"{username}@example.com")
        return User.objects.create_user(username=username, password=password, **fields)

    return make


@pytest.fixture
def alice(make_user):
    return make_user("alice")


@pytest.fixture
def bob(make_user):
    return make_user("bob")


@pytest.fixture
def as_user(gql):
    """A client logged in as the given user, through tokenAuth."""

    def login_as(user, password=PASSWORD):
        client = GraphQLClient()
        tokens = client.login(user.username, password)
        return client.authenticate(tokens["access"])

    return login_as


@pytest.fixture
def client_for(db):
    """A client holding a fresh session's access token, without going through (rate-limited) tokenAuth."""
    from accounts.sessions import start_session

    def client(user):
        return GraphQLClient().authenticate(start_session(user).access)

    return client


@pytest.fixture
def grant_role(db):
    """Give a user a role (a group) holding the given codenames."""
    from django.contrib.auth.models import Group, Permission

    def grant(user, *codenames, role="holder"):
        group, _ = Group.objects.get_or_create(name=role)
        for codename in codenames:
            app_label, name = codename.split(".")
            group.permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
        user.groups.add(group)
        return user

    return grant


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory):
    """The test OpenID provider (tests/oidc_provider), one server per test process, with the
    people who can sign in there."""
    from tests.oidc_provider.server import OidcProviderServer, ProviderUser

    people = [
        ProviderUser("ada", "ada@example.com", "ada's provider password"),
        ProviderUser("grace", "Grace@Example.com", "grace's provider password"),
    ]
    server = OidcProviderServer(tmp_path_factory.mktemp("oidc-provider"), people).start()
    yield server
    server.stop()
