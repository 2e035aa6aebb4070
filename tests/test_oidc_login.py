"""Signing in with an OpenID Connect provider (docs/oidc.md), against a real provider.

The provider is django-oauth-toolkit in a Django project of its own (tests/oidc_provider), run
by gunicorn on a free loopback port; the server under test talks to it over HTTP as it would to
any provider (discovery, keys, token endpoint). Each test drives the whole authorization-code
flow: oidcAuthorizationUrl, then a browser's visit to the URL (sign in at the provider, which
redirects back with a code), then oidcLogin. The provider's clients other than `honest` each
break one rule on purpose (tests/oidc_provider/clients.py).
"""

import json
import logging
import socket
import time
import uuid
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
import requests
import time_machine
from django.test import override_settings
from django.utils import timezone

from accounts import oidc
from accounts.models import AuditEvent, LoginSession, OidcAuthorizationRequest, OidcIdentity, TotpDevice, User
from accounts.oidc_providers import Provider
from tests.graphql_util import PASSWORD, GraphQLClient, error_codes, only_error
from tests.oidc_provider import clients
from tests.oidc_provider.server import REDIRECT_URI

pytestmark = pytest.mark.slow

PROVIDERS = "query Providers { oidcProviders { name } }"
AUTHORIZATION_URL = """
mutation Start($provider: String!, $redirectUri: String!) {
  oidcAuthorizationUrl(provider: $provider, redirectUri: $redirectUri) { url state }
}
"""
LOGIN = """
mutation Finish($provider: String!, $code: String!, $state: String!, $otp: String) {
  oidcLogin(provider: $provider, code: $code, state: $state, otp: $otp) {
    access refresh user { id username email emailVerified identities }
  }
}
"""
ME = "query { me { username identities } }"


@pytest.fixture(autouse=True)
def configured(settings, oidc_provider):
    """The server under test knows every client of the test provider as a provider of its own."""
    settings.OIDC_PROVIDERS = oidc_provider.providers_setting()
    settings.OIDC_REDIRECT_URIS = ("https://app.example.com/signed-in", REDIRECT_URI)


def start(gql, provider=clients.HONEST):
    result = gql.execute(AUTHORIZATION_URL, {"provider": provider, "redirectUri": REDIRECT_URI})
    assert "errors" not in result, result
    return result["data"]["oidcAuthorizationUrl"]


def finish(gql, provider, code, state, otp=None):
    return gql.execute(LOGIN, {"provider": provider, "code": code, "state": state, "otp": otp})


def sign_in(gql, oidc_provider, provider=clients.HONEST, person="ada"):
    """oidcAuthorizationUrl, and the person's visit to the provider: the code and state it sends back."""
    authorization = start(gql, provider)
    back = oidc_provider.sign_in(authorization["url"], person)
    assert back.state == authorization["state"]
    return back


def log_in(gql, oidc_provider, provider=clients.HONEST, person="ada"):
    back = sign_in(gql, oidc_provider, provider, person)
    return finish(gql, provider, back.code, back.state)


def reason(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "OIDC_FAILED", error
    return error["extensions"]["reason"]


def verified_user(make_user, username, email):
    user = make_user(username, email=email)
    user.verified_email = email
    user.save(update_fields=["verified_email"])
    return user


def test_providers_are_listed_for_anyone(gql, oidc_provider):
    names = [provider["name"] for provider in gql.execute(PROVIDERS)["data"]["oidcProviders"]]
    assert names == list(clients.CLIENTS)


def test_the_authorization_url_asks_for_a_code_with_pkce_a_nonce_and_the_scopes(gql, oidc_provider):
    authorization = start(gql)
    url = urlsplit(authorization["url"])
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{oidc_provider.issuer}/authorize/"
    assert query["response_type"] == "code"
    assert query["client_id"] == oidc_provider.credentials[clients.HONEST]["client_id"]
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "openid email profile"
    assert query["state"] == authorization["state"]
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43  # base64url of a SHA-256 digest: the verifier stays here
    assert len(query["nonce"]) >= 20
    assert "client_secret" not in authorization["url"]
    assert oidc_provider.credentials[clients.HONEST]["client_secret"] not in authorization["url"]


def test_the_authorization_url_asks_for_the_configured_scopes(gql, settings, oidc_provider):
    narrow = replace(oidc_provider.provider(clients.HONEST, name="narrow"), scopes=("openid", "email"))
    settings.OIDC_PROVIDERS = (narrow,)
    assert parse_qs(urlsplit(start(gql, "narrow")["url"]).query)["scope"] == ["openid email"]


def test_each_authorization_has_its_own_state_and_nonce(gql, oidc_provider):
    first, second = (parse_qs(urlsplit(start(gql)["url"]).query) for _ in range(2))
    for parameter in ("state", "nonce", "code_challenge"):
        assert first[parameter] != second[parameter]


def test_a_new_identity_with_a_verified_email_creates_a_user_and_a_session(gql, oidc_provider, caplog):
    caplog.set_level(logging.INFO, logger="accounts.audit")
    result = log_in(gql, oidc_provider)

    assert "errors" not in result, result
    payload = result["data"]["oidcLogin"]
    assert payload["user"]["username"] == "ada"
    assert payload["user"]["email"] == "ada@example.com"
    assert payload["user"]["emailVerified"] is True
    assert payload["user"]["identities"] == [clients.HONEST]
    me = GraphQLClient().authenticate(payload["access"]).execute(ME)
    assert me == {"data": {"me": {"username": "ada", "identities": [clients.HONEST]}}}
    user = User.objects.get()
    assert not user.has_usable_password()
    assert user.last_login is not None
    assert LoginSession.objects.filter(user=user).count() == 1
    identity = OidcIdentity.objects.get()
    assert (identity.user, identity.issuer, identity.provider) == (user, oidc_provider.issuer, clients.HONEST)
    events = list(AuditEvent.objects.order_by("id").values_list("type", "user", "success"))
    assert events == [("REGISTER", user.pk, True), ("LOGIN_SUCCESS", user.pk, True)]
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "accounts.audit"]
    assert [line["provider"] for line in lines] == [clients.HONEST, clients.HONEST]


def test_no_secret_of_the_flow_reaches_a_log_line_or_the_audit_log(gql, oidc_provider, caplog):
    caplog.set_level(logging.DEBUG)
    authorization = start(gql)
    server_logs = caplog.text
    back = oidc_provider.sign_in(authorization["url"], "ada")  # the test's browser logs what it sends
    caplog.clear()
    tokens = finish(gql, clients.HONEST, back.code, back.state)["data"]["oidcLogin"]
    assert reason(finish(gql, clients.HONEST, back.code, back.state)) == "invalid_state"
    server_logs += caplog.text

    request = OidcAuthorizationRequest.objects.get()
    client_secret = oidc_provider.credentials[clients.HONEST]["client_secret"]
    logged = server_logs + repr(list(AuditEvent.objects.values()))
    for secret in (client_secret, back.code, back.state, request.nonce, request.code_verifier, *tokens.values()):
        if isinstance(secret, str):
            assert secret not in logged
    assert back.state not in repr(list(OidcAuthorizationRequest.objects.values()))  # only its digest is stored


def test_the_refresh_token_of_an_oidc_session_rotates_like_any_other(gql, oidc_provider):
    payload = log_in(gql, oidc_provider)["data"]["oidcLogin"]
    refreshed = gql.execute(
        "mutation ($r: String!) { refreshToken(refresh: $r) { access } }", {"r": payload["refresh"]}
    )
    assert "errors" not in refreshed, refreshed


def test_with_cookie_the_refresh_token_goes_into_the_cookie_as_with_tokenauth(gql, oidc_provider):
    back = sign_in(gql, oidc_provider)
    browser = GraphQLClient()
    browser.headers = {"HTTP_ORIGIN": "http://testserver"}

    result = browser.execute(
        "mutation ($code: String!, $state: String!) {"
        '  oidcLogin(provider: "honest", code: $code, state: $state, cookie: true) { access refresh } }',
        {"code": back.code, "state": back.state},
    )

    assert result["data"]["oidcLogin"]["refresh"] is None
    cookie = browser.http.cookies["__Host-refresh"]
    assert cookie.value and cookie["httponly"] and cookie["secure"]
    renewed = browser.execute("mutation { refreshToken { access refresh } }")
    assert "errors" not in renewed, renewed
    assert renewed["data"]["refreshToken"]["refresh"] is None


def test_a_linked_identity_always_logs_into_the_same_user(gql, oidc_provider):
    first = log_in(gql, oidc_provider)["data"]["oidcLogin"]["user"]
    # The user changes address meanwhile: the identity, not the email, finds the account.
    User.objects.filter(pk=User.objects.get().pk).update(email="ada@elsewhere.example")
    second = log_in(gql, oidc_provider)["data"]["oidcLogin"]["user"]

    assert second["id"] == first["id"]
    assert second["identities"] == [clients.HONEST]
    assert User.objects.count() == 1
    assert OidcIdentity.objects.count() == 1
    assert LoginSession.objects.count() == 2


def test_a_state_is_used_once(gql, oidc_provider):
    back = sign_in(gql, oidc_provider)
    assert "errors" not in finish(gql, clients.HONEST, back.code, back.state)

    replayed = finish(gql, clients.HONEST, back.code, back.state)

    assert reason(replayed) == "invalid_state"
    assert LoginSession.objects.count() == 1


@pytest.mark.parametrize(
    ("client", "expected_reason", "cause"),
    [
        (clients.WRONG_NONCE, "invalid_id_token", "Invalid claim: 'nonce'"),
        (clients.WRONG_AUDIENCE, "invalid_id_token", "Invalid claim: 'aud'"),
        (clients.WRONG_ISSUER, "invalid_id_token", "Invalid claim: 'iss'"),
        (clients.EXPIRED, "invalid_id_token", "The token is expired"),
        (clients.BAD_SIGNATURE, "invalid_id_token", "bad_signature"),
        (clients.ISSUED_BEFORE_SIGN_IN, "invalid_id_token", "Invalid claim: 'iat'"),
        (clients.LONG_SUBJECT, "invalid_id_token", "Invalid claim: 'sub'"),
        (clients.TOKEN_ENDPOINT_FAILS, "exchange_failed", "503 Server Error"),
    ],
)
def test_a_provider_that_misbehaves_is_refused_and_nothing_is_created(
    gql, oidc_provider, caplog, client, expected_reason, cause
):
    back = sign_in(gql, oidc_provider, client)

    result = finish(gql, client, back.code, back.state)

    assert reason(result) == expected_reason
    assert result["data"] is None
    # What went wrong is in the server's log, for the operator (the client learns only the reason).
    assert any(cause in record.getMessage() for record in caplog.records if record.name == "accounts.oidc")
    assert User.objects.count() == 0
    assert OidcIdentity.objects.count() == 0
    assert LoginSession.objects.count() == 0
    event = AuditEvent.objects.get()
    assert (event.type, event.username, event.user, event.success) == ("LOGIN_FAILURE", f"oidc:{client}", None, False)
    # The state is used up: the same answer again is no way in.
    assert reason(finish(gql, client, back.code, back.state)) == "invalid_state"


def test_a_code_the_provider_never_issued_fails_the_exchange_and_uses_the_state_up(gql, oidc_provider, caplog):
    authorization = start(gql)

    assert reason(finish(gql, clients.HONEST, "a-made-up-code", authorization["state"])) == "exchange_failed"
    assert any("invalid_grant" in record.getMessage() for record in caplog.records if record.name == "accounts.oidc")
    back = oidc_provider.sign_in(authorization["url"], "ada")
    assert reason(finish(gql, clients.HONEST, back.code, back.state)) == "invalid_state"
    assert LoginSession.objects.count() == 0


def test_an_unknown_provider_is_refused_whatever_the_state_and_leaves_the_state_usable(gql, oidc_provider):
    back = sign_in(gql, oidc_provider)

    assert reason(finish(gql, "nobody", back.code, back.state)) == "unknown_provider"
    assert reason(finish(gql, "nobody", back.code, "no such state")) == "unknown_provider"
    events = AuditEvent.objects.values_list("type", "username")
    assert list(events) == [("LOGIN_FAILURE", "oidc:nobody")] * 2
    assert "errors" not in finish(gql, clients.HONEST, back.code, back.state)


def test_a_state_made_for_another_provider_is_invalid(gql, oidc_provider):
    back = sign_in(gql, oidc_provider, clients.NO_EMAIL)

    assert reason(finish(gql, clients.HONEST, back.code, back.state)) == "invalid_state"
    assert reason(finish(gql, clients.HONEST, back.code, "a state nobody was given")) == "invalid_state"
    assert LoginSession.objects.count() == 0


def test_a_state_expires_after_ten_minutes(gql, oidc_provider):
    back = sign_in(gql, oidc_provider)

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        assert reason(finish(gql, clients.HONEST, back.code, back.state)) == "invalid_state"
    assert LoginSession.objects.count() == 0


def test_expired_authorization_requests_are_deleted_as_new_ones_are_made(gql, oidc_provider):
    start(gql)
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        start(gql)
    assert OidcAuthorizationRequest.objects.count() == 1


def test_the_redirect_uri_must_be_one_of_the_configured_ones_exactly(gql):
    for uri in ("https://app.example.com/signed-in/", "https://evil.example/signed-in", ""):
        result = gql.execute(AUTHORIZATION_URL, {"provider": clients.HONEST, "redirectUri": uri})
        error = only_error(result)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert list(error["extensions"]["fieldErrors"]) == ["redirectUri"]
    allowed = gql.execute(
        AUTHORIZATION_URL, {"provider": clients.HONEST, "redirectUri": "https://app.example.com/signed-in"}
    )
    assert "errors" not in allowed


def test_an_unknown_provider_gets_no_authorization_url(gql):
    result = gql.execute(AUTHORIZATION_URL, {"provider": "nobody", "redirectUri": REDIRECT_URI})
    assert reason(result) == "unknown_provider"


def test_a_new_identity_is_linked_to_the_local_user_when_both_emails_are_verified(gql, oidc_provider, make_user):
    # The provider has Grace@Example.com; the address matches ignoring case.
    grace = verified_user(make_user, "grace_h", "grace@example.com")

    payload = log_in(gql, oidc_provider, person="grace")["data"]["oidcLogin"]

    assert payload["user"]["username"] == "grace_h"
    assert payload["user"]["identities"] == [clients.HONEST]
    assert OidcIdentity.objects.get().user == grace
    assert User.objects.count() == 1
    grace.refresh_from_db()
    assert grace.has_usable_password()  # linking changes nothing else


@pytest.mark.parametrize(
    ("client", "local_email_verified"),
    [(clients.HONEST, False), (clients.EMAIL_UNVERIFIED, True), (clients.EMAIL_UNVERIFIED, False)],
)
def test_no_link_by_email_unless_both_sides_verified_it(gql, oidc_provider, make_user, client, local_email_verified):
    grace = make_user("grace_h", email="grace@example.com")
    if local_email_verified:
        grace.verified_email = grace.email
        grace.save(update_fields=["verified_email"])

    result = log_in(gql, oidc_provider, client, person="grace")

    assert reason(result) == "email_not_verified"
    assert OidcIdentity.objects.count() == 0
    assert User.objects.count() == 1
    assert LoginSession.objects.count() == 0
    event = AuditEvent.objects.get()
    assert (event.type, event.user, event.success) == ("LOGIN_FAILURE", grace, False)


def test_a_new_identity_with_an_unverified_email_nobody_has_creates_an_unverified_user(gql, oidc_provider):
    user = log_in(gql, oidc_provider, clients.EMAIL_UNVERIFIED)["data"]["oidcLogin"]["user"]
    assert (user["username"], user["email"], user["emailVerified"]) == ("ada", "ada@example.com", False)


def test_an_id_token_without_email_creates_a_user_named_after_the_subject(gql, oidc_provider, make_user):
    # Someone here has the address the provider knows: without an email claim nothing links by email.
    verified_user(make_user, "ada", "ada@example.com")

    user = log_in(gql, oidc_provider, clients.NO_EMAIL)["data"]["oidcLogin"]["user"]

    subject = OidcIdentity.objects.get().subject
    assert user["username"] == f"{clients.NO_EMAIL}-{subject}"
    assert (user["email"], user["emailVerified"], user["identities"]) == ("", False, [clients.NO_EMAIL])
    assert User.objects.count() == 2


def test_a_new_users_username_is_made_unique(gql, oidc_provider, make_user):
    make_user("ADA", email="someone.else@example.com")
    assert log_in(gql, oidc_provider)["data"]["oidcLogin"]["user"]["username"] == "ada2"


def test_an_inactive_linked_user_is_refused_like_tokenauth_refuses_one(gql, oidc_provider):
    log_in(gql, oidc_provider)
    User.objects.update(is_active=False)

    result = log_in(gql, oidc_provider)

    assert error_codes(result) == ["INVALID_CREDENTIALS"]
    assert LoginSession.objects.filter(revoked_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(type="LOGIN_FAILURE", user=User.objects.get()).count() == 1


def test_an_inactive_user_with_the_same_verified_email_is_refused_and_not_linked(gql, oidc_provider, make_user):
    grace = verified_user(make_user, "grace_h", "grace@example.com")
    User.objects.filter(pk=grace.pk).update(is_active=False)

    assert error_codes(log_in(gql, oidc_provider, person="grace")) == ["INVALID_CREDENTIALS"]
    assert OidcIdentity.objects.count() == 0
    assert LoginSession.objects.count() == 0


def with_totp(user):
    secret = pyotp.random_base32()
    TotpDevice.objects.create(user=user, secret=secret, confirmed_at=timezone.now())
    return pyotp.TOTP(secret)


def test_a_second_factor_still_applies_and_the_same_state_is_retried_with_otp(gql, oidc_provider, make_user):
    totp = with_totp(verified_user(make_user, "grace_h", "grace@example.com"))
    back = sign_in(gql, oidc_provider, person="grace")

    assert error_codes(finish(gql, clients.HONEST, back.code, back.state)) == ["OTP_REQUIRED"]
    assert error_codes(finish(gql, clients.HONEST, back.code, back.state, otp="abcdef")) == ["OTP_INVALID"]
    # Nothing is linked, and no session starts, before the second factor is given.
    assert OidcIdentity.objects.count() == 0
    assert LoginSession.objects.count() == 0
    # The identity the provider vouched for is kept with the state: the code need not be valid again.
    result = finish(gql, clients.HONEST, "any code", back.state, otp=totp.now())

    assert "errors" not in result, result
    assert result["data"]["oidcLogin"]["user"]["identities"] == [clients.HONEST]
    assert LoginSession.objects.count() == 1
    assert reason(finish(gql, clients.HONEST, "any code", back.state, otp=totp.now())) == "invalid_state"


def test_otp_retries_end_with_the_state(gql, oidc_provider, make_user):
    totp = with_totp(verified_user(make_user, "grace_h", "grace@example.com"))
    back = sign_in(gql, oidc_provider, person="grace")
    assert error_codes(finish(gql, clients.HONEST, back.code, back.state)) == ["OTP_REQUIRED"]

    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        assert reason(finish(gql, clients.HONEST, back.code, back.state, otp=totp.now())) == "invalid_state"


def test_otp_attempts_spend_the_same_budget_as_tokenauth(gql, oidc_provider, make_user, settings):
    settings.LOGIN_RATE_LIMIT = "2/m"
    grace = verified_user(make_user, "grace_h", "grace@example.com")
    totp = with_totp(grace)
    back = sign_in(gql, oidc_provider, person="grace")

    for _ in range(2):
        assert error_codes(finish(gql, clients.HONEST, back.code, back.state, otp="abcdef")) == ["OTP_INVALID"]
    limited = finish(gql, clients.HONEST, back.code, back.state, otp=totp.now())

    assert error_codes(limited) == ["RATE_LIMITED"]
    assert LoginSession.objects.count() == 0
    # tokenAuth for grace, from another address, meets the budget her OTP attempts spent.
    elsewhere = GraphQLClient()
    elsewhere.headers = {"REMOTE_ADDR": "192.0.2.7"}
    login = 'mutation { tokenAuth(username: "grace_h", password: "%s") { access } }' % PASSWORD
    assert error_codes(elsewhere.execute(login)) == ["RATE_LIMITED"]


def test_a_user_made_by_a_provider_has_no_password_to_log_in_with_or_to_confirm(gql, oidc_provider):
    access = log_in(gql, oidc_provider)["data"]["oidcLogin"]["access"]
    ada = GraphQLClient().authenticate(access)

    for password in ("", "!", User.objects.get().password):
        login = gql.execute(
            'mutation ($p: String!) { tokenAuth(username: "ada", password: $p) { access } }', {"p": password}
        )
        assert error_codes(login) == ["INVALID_CREDENTIALS"]
    no_password = ["This account has no password yet: set one with requestPasswordReset."]
    change = ada.execute(
        'mutation { changePassword(oldPassword: "x", newPassword: "a brand new passphrase") { access } }'
    )
    assert only_error(change)["extensions"] == {"code": "BAD_USER_INPUT", "fieldErrors": {"oldPassword": no_password}}
    key = ada.execute('mutation { createApiKey(name: "k", password: "") { secret } }')
    assert only_error(key)["extensions"] == {"code": "BAD_USER_INPUT", "fieldErrors": {"password": no_password}}


def test_both_mutations_are_rate_limited_per_client_ip(gql, oidc_provider, settings):
    settings.OIDC_RATE_LIMIT = "2/m"
    back = sign_in(gql, oidc_provider)
    start(gql)

    refused = gql.execute(AUTHORIZATION_URL, {"provider": clients.HONEST, "redirectUri": REDIRECT_URI})
    assert error_codes(refused) == ["RATE_LIMITED"]
    assert only_error(refused)["extensions"]["retryAfter"] > 0
    assert reason(finish(gql, clients.HONEST, "a-made-up-code", "a made-up state")) == "invalid_state"
    assert "errors" not in finish(gql, clients.HONEST, back.code, back.state)
    assert error_codes(finish(gql, clients.HONEST, back.code, back.state)) == ["RATE_LIMITED"]
    # Another address has its own count.
    elsewhere = GraphQLClient()
    elsewhere.headers = {"REMOTE_ADDR": "192.0.2.8"}
    assert "errors" not in elsewhere.execute(
        AUTHORIZATION_URL, {"provider": clients.HONEST, "redirectUri": REDIRECT_URI}
    )


def test_identities_are_for_the_user_themself_and_staff(gql, oidc_provider, make_user, client_for, grant_role):
    ada_id = log_in(gql, oidc_provider)["data"]["oidcLogin"]["user"]["id"]
    ada = User.objects.get()
    query = "query ($id: ID!) { node(id: $id) { ... on User { username identities } } }"

    viewer = grant_role(make_user("viewer"), "accounts.view_user")
    seen_by_viewer = client_for(viewer).execute(query, {"id": ada_id})
    assert seen_by_viewer["data"]["node"] == {"username": "ada", "identities": None}
    assert error_codes(seen_by_viewer) == ["FORBIDDEN"]
    staff = make_user("staff", is_staff=True)
    assert client_for(staff).execute(query, {"id": ada_id})["data"]["node"]["identities"] == [clients.HONEST]
    assert client_for(ada).execute(query, {"id": ada_id})["data"]["node"]["identities"] == [clients.HONEST]


def test_identities_list_each_provider_once_and_sorted(make_user, client_for):
    user = make_user("linus")
    for provider, subject in (("zeta", "1"), ("alpha", "2"), ("zeta", "3")):
        OidcIdentity.objects.create(user=user, provider=provider, issuer=f"https://{provider}.example", subject=subject)
    assert client_for(user).execute(ME)["data"]["me"]["identities"] == ["alpha", "zeta"]
    assert client_for(make_user("nobody")).execute(ME)["data"]["me"]["identities"] == []


def test_an_unreachable_provider_is_unavailable(gql, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.OIDC_PROVIDERS = (Provider("down", f"http://127.0.0.1:{closed_port}/o", "client", "secret"),)

    assert (
        reason(gql.execute(AUTHORIZATION_URL, {"provider": "down", "redirectUri": REDIRECT_URI}))
        == "provider_unavailable"
    )
    assert reason(finish(gql, "down", "code", "state")) == "invalid_state"  # no state was ever made for it


def test_a_discovery_document_that_names_another_issuer_is_refused(gql, settings, oidc_provider, caplog):
    # The same provider, configured with a trailing slash: its document names the issuer without one.
    settings.OIDC_PROVIDERS = (replace(oidc_provider.provider(clients.HONEST), issuer=oidc_provider.issuer + "/"),)

    result = gql.execute(AUTHORIZATION_URL, {"provider": clients.HONEST, "redirectUri": REDIRECT_URI})

    assert reason(result) == "provider_unavailable"
    assert any("names another issuer" in record.getMessage() for record in caplog.records)


def discovery_fetches(oidc_provider):
    """How many times the provider has served its discovery document. gunicorn writes a request's
    access-log line after its response, and the provider's one worker answers one request at a
    time: once the line of a request made now is written, so are those of every earlier one."""
    marker = f"/log-settled-{uuid.uuid4().hex}"
    requests.get(oidc_provider.origin + marker, timeout=30)
    deadline = time.monotonic() + 30
    while marker not in (log := oidc_provider.access_log.read_text()):
        assert time.monotonic() < deadline, "the provider never logged a request it answered"
        time.sleep(0.05)
    return log.count("/.well-known/openid-configuration")


def test_the_discovery_document_is_fetched_when_needed_and_again_once_stale(gql, settings, oidc_provider):
    # A configuration of its own, so that no earlier test's cached document counts.
    settings.OIDC_PROVIDERS = (oidc_provider.provider(clients.HONEST, name="fresh"),)
    before = discovery_fetches(oidc_provider)

    start(gql, "fresh")
    start(gql, "fresh")
    assert discovery_fetches(oidc_provider) == before + 1
    with time_machine.travel(timezone.now() + timedelta(seconds=oidc.DISCOVERY_MAX_AGE_SECONDS + 1)):
        start(gql, "fresh")
    assert discovery_fetches(oidc_provider) == before + 2


def test_only_configured_providers_stay_cached(gql, settings, oidc_provider):
    settings.OIDC_PROVIDERS = (oidc_provider.provider(clients.HONEST, name="first"),)
    start(gql, "first")
    settings.OIDC_PROVIDERS = (oidc_provider.provider(clients.HONEST, name="second"),)
    start(gql, "second")
    assert list(oidc._clients) == list(settings.OIDC_PROVIDERS)


@pytest.mark.parametrize(
    ("supported", "chosen"),
    [
        (None, "client_secret_basic"),
        (["client_secret_post", "client_secret_basic"], "client_secret_basic"),
        (["client_secret_post"], "client_secret_post"),
        (["private_key_jwt"], "client_secret_basic"),
    ],
)
def test_the_client_authenticates_as_the_provider_supports(supported, chosen):
    metadata = {} if supported is None else {"token_endpoint_auth_methods_supported": supported}
    assert oidc._client_authentication(metadata) == chosen


@override_settings(METRICS_ENABLED=True)
def test_logins_are_counted_by_result_without_the_providers_name(gql, oidc_provider):
    from tests.test_metrics import Change

    change = Change()
    log_in(gql, oidc_provider)
    log_in(gql, oidc_provider, clients.WRONG_NONCE)
    finish(gql, "a name a client made up", "code", "state")

    counted = {result: change.of("graphql_auth_oidc_logins_total", result=result) for result in
               ("success", "invalid_id_token", "unknown_provider")}  # fmt: skip
    assert counted == {"success": 1, "invalid_id_token": 1, "unknown_provider": 1}
