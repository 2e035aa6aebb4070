"""Fixtures only; the helpers they use live in tests/graphql_util.py and tests/cache_util.py."""

import pytest

from accounts.models import User
from tests.cache_util import clear_own_cache
from tests.graphql_util import PASSWORD, GraphQLClient


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


@pytest.fixture
def sql_with_a_parameter_more(monkeypatch):
    """Django's SQL compiler as an upgrade might change it: one parameter more in every query it
    compiles (what SQL compiled once, accounts.compiled_lookup and HeldCodenames, must refuse)."""
    from django.db.models.sql.compiler import SQLCompiler

    compile_as_django_does = SQLCompiler.as_sql

    def with_a_parameter_more(compiler, *args, **kwargs):
        sql, parameters = compile_as_django_does(compiler, *args, **kwargs)
        return sql, (*parameters, "more")

    monkeypatch.setattr(SQLCompiler, "as_sql", with_a_parameter_more)


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
