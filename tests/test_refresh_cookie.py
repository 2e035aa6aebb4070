"""Browsers keep the refresh token in a cookie (docs/sessions.md): its attributes, refresh and
revoke through it, the CSRF proof every use of it needs, and that it authenticates nothing else."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from accounts import cookies
from accounts.models import AuditEvent, LoginSession, RefreshToken
from tests.graphql_util import PASSWORD, GraphQLClient, only_error
from tests.tokens_util import claims_of

LOGIN = """
mutation($username: String!, $password: String!, $cookie: Boolean) {
  tokenAuth(username: $username, password: $password, cookie: $cookie) { access refresh refreshExpiresAt }
}
"""
REFRESH = "mutation { refreshToken { access refresh refreshExpiresAt } }"
REFRESH_TO = "mutation($cookie: Boolean) { refreshToken(cookie: $cookie) { access refresh } }"
REFRESH_BODY = (
    "mutation($r: String, $cookie: Boolean) { refreshToken(refresh: $r, cookie: $cookie) { access refresh } }"
)
REVOKE = "mutation { revokeToken { revoked } }"
REVOKE_BODY = "mutation($r: String) { revokeToken(refresh: $r) { revoked } }"
CHANGE_PASSWORD = """
mutation($old: String!, $new: String!) {
  changePassword(oldPassword: $old, newPassword: $new, cookie: true) { access refresh }
}
"""
ME = "{ me { username } }"

OWN_ORIGIN = "http://testserver"
OWN_HTTPS_ORIGIN = "https://testserver"
FOREIGN_ORIGIN = "https://evil.example.net"
SECURE_NAME = "__Host-refresh"


class Browser:
    """A browser on a page of `origin`: keeps cookies, sends JSON POSTs with its Origin."""

    def __init__(self, origin=OWN_ORIGIN, secure=False):
        self.http = Client()
        self.origin = origin
        self.secure = secure
        self.last_response = None

    def post(self, query, variables=None, origin=None, content_type="application/json", **extra):
        headers = {"HTTP_ORIGIN": origin or self.origin} if (origin or self.origin) else {}
        self.last_response = self.http.post(
            "/graphql/",
            data=json.dumps({"query": query, "variables": variables or {}}),
            content_type=content_type,
            secure=self.secure,
            **headers,
            **extra,
        )
        return self.last_response

    def execute(self, query, variables=None, **kwargs):
        response = self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.content
        return response.json()

    def login(self, username="alice", cookie=True):
        result = self.execute(LOGIN, {"username": username, "password": PASSWORD, "cookie": cookie})
        assert "errors" not in result, result
        return result["data"]["tokenAuth"]

    def set_cookies(self):
        """The cookies the last response set, by name."""
        return dict(self.last_response.cookies.items())

    def cookie(self, name=SECURE_NAME):
        return self.http.cookies[name].value


def reason(result):
    return only_error(result)["extensions"].get("reason")


def me(access):
    return GraphQLClient().authenticate(access).execute(ME)


def is_live(token):
    """Whether `token`'s session is alive and the token unused: nothing has changed for it."""
    claims = claims_of(token)
    record = RefreshToken.objects.get(jti=claims["jti"])
    return record.consumed_at is None and LoginSession.objects.get(pk=claims["sid"]).revoked_at is None


def test_login_over_https_sets_the_refresh_token_as_a_host_cookie_and_nothing_else(alice):
    browser = Browser(OWN_HTTPS_ORIGIN, secure=True)
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False):
        tokens = browser.login()

    assert tokens["refresh"] is None
    (name, cookie), *others = browser.set_cookies().items()
    assert others == [] and name == SECURE_NAME
    assert claims_of(cookie.value)["token_type"] == "refresh"
    assert claims_of(cookie.value)["sid"] == claims_of(tokens["access"])["sid"]
    assert (cookie["max-age"], cookie["path"], cookie["domain"]) == (86400, "/", "")
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"]) == (True, True, "Strict")
    assert me(tokens["access"])["data"]["me"]["username"] == "alice"


@override_settings(DEBUG=True)
def test_plain_http_in_debug_gets_a_plain_cookie_without_secure(alice):
    browser = Browser()
    browser.login()

    cookie = browser.set_cookies()["refresh"]
    assert list(browser.set_cookies()) == ["refresh"]
    assert (cookie["secure"], cookie["httponly"], cookie["samesite"], cookie["path"]) == ("", True, "Strict", "/")


def test_plain_http_outside_debug_still_gets_the_secure_host_cookie(alice):
    browser = Browser()
    browser.login()

    cookie = browser.set_cookies()[SECURE_NAME]
    assert (cookie["secure"], cookie["httponly"]) == (True, True)


@override_settings(JWT={**settings.JWT, "REFRESH_COOKIE_NAME": "app_refresh", "REFRESH_COOKIE_SAMESITE": "Lax"})
def test_the_operator_names_the_cookie_and_chooses_samesite(alice):
    browser = Browser(OWN_HTTPS_ORIGIN, secure=True)
    browser.login()

    cookie = browser.set_cookies()["app_refresh"]
    assert (cookie["samesite"], cookie["secure"]) == ("Lax", True)
    assert browser.execute(REFRESH)["data"]["refreshToken"]["access"]


@override_settings(DEBUG=True, JWT={**settings.JWT, "REFRESH_COOKIE_NAME": "__Host-app"})
def test_a_cookie_name_with_a_secure_prefix_is_always_secure(alice):
    browser = Browser()
    browser.login()
    assert browser.set_cookies()["__Host-app"]["secure"] is True


@override_settings(JWT={**settings.JWT, "SESSION_MAX_LIFETIME": 7200})
def test_max_age_is_the_refresh_tokens_remaining_lifetime(alice):
    browser = Browser()
    started = timezone.now().replace(microsecond=0)
    with time_machine.travel(started, tick=False):
        browser.login()
    assert browser.set_cookies()[SECURE_NAME]["max-age"] == 7200
    # A refresh token never outlives its session's cap, and neither does the cookie.
    with time_machine.travel(started + timedelta(hours=1), tick=False):
        refreshed = browser.execute(REFRESH)["data"]["refreshToken"]
    assert browser.set_cookies()[SECURE_NAME]["max-age"] == 3600
    assert refreshed["refreshExpiresAt"] == (started + timedelta(hours=2)).isoformat()


def test_change_password_can_answer_with_the_cookie(alice):
    browser = Browser()
    tokens = browser.login(cookie=False)
    passwords = {"old": PASSWORD, "new": "a brand new passphrase"}
    result = browser.execute(CHANGE_PASSWORD, passwords, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert result["data"]["changePassword"]["refresh"] is None
    new_cookie = browser.cookie()
    assert claims_of(new_cookie)["sid"] == claims_of(result["data"]["changePassword"]["access"])["sid"]
    assert is_live(new_cookie)


def test_without_cookie_argument_the_refresh_token_stays_in_the_body(alice):
    browser = Browser()
    tokens = browser.login(cookie=False)
    assert tokens["refresh"] and browser.set_cookies() == {}


# Refresh and revoke through the cookie.


def test_refresh_from_the_cookie_puts_the_new_token_in_the_cookie(alice):
    browser = Browser()
    browser.login()
    old = browser.cookie()

    refreshed = browser.execute(REFRESH)["data"]["refreshToken"]

    new = browser.cookie()
    assert refreshed["refresh"] is None and new != old
    assert claims_of(new)["sid"] == claims_of(old)["sid"] and is_live(new)
    assert RefreshToken.objects.get(jti=claims_of(old)["jti"]).consumed_at is not None
    assert me(refreshed["access"])["data"]["me"]["username"] == "alice"
    assert AuditEvent.objects.filter(type="TOKEN_REFRESH").count() == 1


def test_refresh_from_the_cookie_into_the_body_clears_the_cookie(alice):
    browser = Browser()
    browser.login()

    refreshed = browser.execute(REFRESH_TO, {"cookie": False})["data"]["refreshToken"]

    assert is_live(refreshed["refresh"])
    cleared = browser.set_cookies()[SECURE_NAME]
    assert (cleared.value, cleared["max-age"]) == ("", 0)


def test_a_body_token_can_move_into_the_cookie(alice):
    browser = Browser()
    tokens = browser.login(cookie=False)

    refreshed = browser.execute(REFRESH_BODY, {"r": tokens["refresh"], "cookie": True})["data"]["refreshToken"]

    assert refreshed["refresh"] is None and is_live(browser.cookie())


def test_the_refresh_argument_wins_over_the_cookie_and_needs_no_csrf_proof(alice, bob):
    browser = Browser()
    browser.login("alice")
    alices = browser.cookie()
    bobs = GraphQLClient().login("bob")

    result = browser.execute(REFRESH_BODY, {"r": bobs["refresh"]}, origin=FOREIGN_ORIGIN)

    assert claims_of(result["data"]["refreshToken"]["refresh"])["sid"] == claims_of(bobs["refresh"])["sid"]
    assert browser.set_cookies() == {} and is_live(alices)


def test_revoke_with_the_cookie_ends_the_session_and_clears_the_cookie(alice):
    browser = Browser(OWN_HTTPS_ORIGIN, secure=True)
    tokens = browser.login()
    token = browser.cookie()

    assert browser.execute(REVOKE)["data"]["revokeToken"] == {"revoked": True}

    cleared = browser.set_cookies()[SECURE_NAME]
    assert (cleared.value, cleared["max-age"], cleared["path"], cleared["domain"]) == ("", 0, "/", "")
    assert (cleared["secure"], cleared["httponly"], cleared["samesite"]) == (True, True, "Strict")
    assert reason(me(tokens["access"])) == "token_revoked"
    assert reason(GraphQLClient().execute(REFRESH_BODY, {"r": token})) == "token_revoked"
    assert AuditEvent.objects.filter(type="TOKEN_REVOKED").count() == 1


def test_revoke_with_an_argument_leaves_the_cookie_alone(alice):
    browser = Browser()
    browser.login()
    in_cookie = browser.cookie()
    other = GraphQLClient().login("alice")

    assert browser.execute(REVOKE_BODY, {"r": other["refresh"]})["data"]["revokeToken"] == {"revoked": True}

    assert browser.set_cookies() == {} and is_live(in_cookie)


@pytest.mark.parametrize("operation", [REFRESH, REVOKE])
@pytest.mark.parametrize("origin", [OWN_ORIGIN, FOREIGN_ORIGIN, None])
def test_with_neither_argument_nor_cookie_the_credentials_are_missing(db, operation, origin):
    result = Browser(origin).execute(operation)
    assert only_error(result)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}


def test_the_cookie_authenticates_nothing_but_refresh_and_revoke(alice):
    browser = Browser()
    browser.login()

    assert only_error(browser.execute(ME))["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}
    result = browser.execute('mutation { revokeAllTokens createTask(input: {title: "x"}) { id } }')
    assert {error["extensions"]["reason"] for error in result["errors"]} == {"missing_credentials"}
    assert not alice.tasks.exists() and is_live(browser.cookie())


# CSRF: every use of the cookie proves the request came from an allowed page.


def refused_by_origin(origin):
    def send(browser, query):
        return browser.post(query, origin=origin)

    return send


def without_origin(browser, query):
    return browser.http.post(
        "/graphql/", data=json.dumps({"query": query}), content_type="application/json", secure=browser.secure
    )


def as_form(browser, query):
    return browser.http.post("/graphql/", {"query": query}, HTTP_ORIGIN=browser.origin)


def as_text(browser, query):
    return browser.post(query, content_type="text/plain")


def with_get(browser, query):
    return browser.http.get("/graphql/", {"query": query}, HTTP_ORIGIN=browser.origin)


REFUSALS = {
    "no Origin": without_origin,
    "foreign Origin": refused_by_origin(FOREIGN_ORIGIN),
    "Origin null": refused_by_origin("null"),
    "own host on another port": refused_by_origin("http://testserver:8080"),
    "own host over the other scheme": refused_by_origin(OWN_HTTPS_ORIGIN),
    "form body": as_form,
    "text/plain body": as_text,
    "GET": with_get,
}


@pytest.mark.parametrize("operation", [REFRESH, REVOKE])
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_a_use_of_the_cookie_without_the_csrf_proof_changes_nothing(alice, operation, refusal):
    browser = Browser()
    tokens = browser.login()
    token = browser.cookie()

    response = REFUSALS[refusal](browser, operation)

    if response.status_code == 200:
        error = only_error(response.json())
        assert error["extensions"] == {"code": "FORBIDDEN", "reason": "csrf"}
    else:
        assert response.status_code in (400, 405)
    assert response.cookies == {} and is_live(token)
    assert me(tokens["access"])["data"]["me"]["username"] == "alice"
    # The session is as it was: the cookie's token still refreshes, once.
    assert browser.execute(REFRESH)["data"]["refreshToken"]["access"]


@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
def test_an_origin_in_cors_allowed_origins_may_use_the_cookie(alice):
    browser = Browser("https://app.example.com")
    browser.login()
    assert browser.execute(REFRESH)["data"]["refreshToken"]["access"]


@override_settings(TRUSTED_PROXY_COUNT=1, SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_behind_a_trusted_proxy_the_forwarded_origin_is_the_servers_own(alice):
    browser = Browser("https://api.example.com")
    browser.login()
    proxied = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "api.example.com"}

    assert browser.execute(REFRESH, **proxied)["data"]["refreshToken"]["access"]
    # Without the proxy's headers the request is not from api.example.com's page.
    assert browser.execute(REFRESH)["errors"][0]["extensions"]["reason"] == "csrf"


def test_forwarded_headers_are_not_believed_without_trusted_proxies(alice):
    browser = Browser("https://api.example.com")
    browser.login()
    proxied = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "api.example.com"}

    assert browser.execute(REFRESH, **proxied)["errors"][0]["extensions"]["reason"] == "csrf"
    assert is_live(browser.cookie())


def test_a_csrf_refusal_is_audited_as_a_permission_denied(alice):
    browser = Browser()
    browser.login()
    browser.post(REFRESH, origin=FOREIGN_ORIGIN)
    assert AuditEvent.objects.filter(type="PERMISSION_DENIED", success=False).count() == 1


def test_two_tabs_refreshing_from_one_cookie_keep_the_session(alice):
    first_tab = Browser()
    first_tab.login()
    second_tab = Browser()
    second_tab.http.cookies[SECURE_NAME] = first_tab.cookie()  # one browser, one cookie jar

    first_tab.execute(REFRESH)
    # The second tab's request left with the old cookie before the first one's answer arrived.
    second = second_tab.execute(REFRESH)["data"]["refreshToken"]

    assert claims_of(second_tab.cookie())["jti"] == claims_of(first_tab.cookie())["jti"]
    assert is_live(first_tab.cookie()) and me(second["access"])["data"]["me"]["username"] == "alice"
    assert not AuditEvent.objects.filter(type="TOKEN_REUSE_DETECTED").exists()


# The proof itself, as a function of what the request says.


@pytest.mark.parametrize(
    ("origin", "own", "allowed", "expected"),
    [
        ("https://api.example.com", ["https://api.example.com:443"], [], True),
        ("http://API.example.com:80", ["http://api.example.com"], [], True),
        ("http://[::1]:8000", ["http://[::1]:8000"], [], True),
        ("https://app.example.com", ["https://api.example.com"], ["https://app.example.com"], True),
        ("https://app.example.com", ["https://api.example.com"], [], False),
        ("https://api.example.com:8443", ["https://api.example.com"], [], False),
        ("http://api.example.com", ["https://api.example.com"], [], False),
        ("https://api.example.com.evil.net", ["https://api.example.com"], [], False),
        ("https://user@api.example.com", ["https://api.example.com"], [], False),
        ("https://api.example.com/page", ["https://api.example.com"], [], False),
        ("null", ["https://api.example.com"], ["null"], False),
        ("", ["https://api.example.com"], [], False),
        (None, ["https://api.example.com"], [], False),
        ("https://api.example.com:99999", ["https://api.example.com"], [], False),
    ],
)
def test_which_origins_are_allowed(origin, own, allowed, expected):
    assert cookies.comes_from_an_allowed_page("POST", "application/json", origin, own, allowed) is expected


@pytest.mark.parametrize(
    ("method", "content_type"),
    [
        ("GET", "application/json"),
        ("PUT", "application/json"),
        ("POST", "text/plain"),
        ("POST", "application/x-www-form-urlencoded"),
        ("POST", "multipart/form-data"),
        ("POST", ""),
        ("POST", None),
    ],
)
def test_only_a_json_post_can_carry_the_proof(method, content_type):
    own = ["https://api.example.com"]
    assert not cookies.comes_from_an_allowed_page(method, content_type, own[0], own, [])


@pytest.mark.parametrize(
    ("header", "proxies", "expected"),
    [
        ("api.example.com", 0, None),
        ("api.example.com", 1, "api.example.com"),
        ("forged.example, api.example.com", 1, "api.example.com"),
        ("forged.example, api.example.com, inner.internal", 2, "api.example.com"),
        ("api.example.com", 2, "api.example.com"),
        ("", 1, None),
        (None, 1, None),
    ],
)
def test_the_forwarded_host_is_the_one_the_outermost_trusted_proxy_wrote(header, proxies, expected):
    assert cookies.forwarded_host(header, proxies) == expected
