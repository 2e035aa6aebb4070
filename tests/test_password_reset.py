"""Password reset (docs/recovery.md): requestPasswordReset and resetPassword."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from accounts import mails
from accounts.models import AuditEvent, LinkToken, User
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes, only_error
from tests.mail_util import delivered, queued_jobs, run_mail_queue, token_in

REQUEST = "mutation Forgot($email: String!) { requestPasswordReset(email: $email) }"
RESET = "mutation Reset($token: String!, $password: String!) { resetPassword(token: $token, newPassword: $password) }"
NEW_PASSWORD = "a brand new passphrase"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def request_reset(email, client_ip="203.0.113.1"):
    client = GraphQLClient()
    client.headers = {"REMOTE_ADDR": client_ip}
    return client.execute(REQUEST, {"email": email})


def reset(token, password=NEW_PASSWORD):
    return GraphQLClient().execute(RESET, {"token": token, "password": password})


def reset_token(address="alice@example.com"):
    """Ask for a reset of `address`, run the queue, and return the token of the mail it sent."""
    sent_before = len(delivered(address))
    assert request_reset(address) == {"data": {"requestPasswordReset": True}}
    run_mail_queue()
    mails_to_address = delivered(address)
    assert len(mails_to_address) == sent_before + 1
    return token_in(mails_to_address[-1])


def token_error(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", result
    return error["extensions"]["fieldErrors"]


def logs_in(username, password):
    return "errors" not in GraphQLClient().execute(LOGIN, {"username": username, "password": password})


def test_known_and_unknown_addresses_get_the_same_answer_and_queue_the_same_work(alice):
    answers, queries = {}, {}
    for client_ip, address in (("203.0.113.1", "alice@example.com"), ("203.0.113.2", "nobody@example.com")):
        with CaptureQueriesContext(connection) as captured:
            answers[address] = request_reset(address, client_ip)
        queries[address] = [query["sql"].split(" ")[0] for query in captured.captured_queries]

    assert answers["alice@example.com"] == answers["nobody@example.com"] == {"data": {"requestPasswordReset": True}}
    # No query looks the address up: the request does the same statements for both.
    assert queries["alice@example.com"] == queries["nobody@example.com"]
    assert queued_jobs() == [
        ("accounts.recovery.reset_mail", {"address": "alice@example.com"}, 1),
        ("accounts.recovery.reset_mail", {"address": "nobody@example.com"}, 1),
    ]

    run_mail_queue()
    assert [message.to for message in delivered()] == [["alice@example.com"]]
    assert queued_jobs() == []


def test_the_address_is_found_ignoring_case_and_the_mail_goes_to_the_address_on_the_account(make_user):
    make_user("carol", email="Carol@Example.com")
    request_reset("  carol@EXAMPLE.COM ")
    run_mail_queue()
    (message,) = delivered()
    assert message.to == ["Carol@example.com"]  # as stored: the domain's case is normalized
    assert message.subject == "Reset your password"


def test_inactive_users_and_malformed_addresses_get_true_and_no_mail(make_user):
    make_user("gone", is_active=False)
    for address in ("gone@example.com", "not an address", "", "x" * 300 + "@example.com", "nul\x00@example.com"):
        assert request_reset(address) == {"data": {"requestPasswordReset": True}}
    run_mail_queue()
    assert delivered() == []


def test_the_link_sets_the_password_once_and_does_not_log_in(alice):
    token = reset_token()
    result = reset(token)
    assert result == {"data": {"resetPassword": True}}
    assert logs_in("alice", NEW_PASSWORD)
    assert not logs_in("alice", PASSWORD)

    assert list(token_error(reset(token, "yet another passphrase"))) == ["token"]
    assert logs_in("alice", NEW_PASSWORD)


def test_the_link_is_built_from_password_reset_url_with_the_token_url_encoded(alice):
    with override_settings(PASSWORD_RESET_URL="https://app.example.com/account/reset?from=mail&token={token}"):
        request_reset("alice@example.com")
        run_mail_queue()
    (message,) = delivered()
    assert "https://app.example.com/account/reset?from=mail&token=" in message.body
    html, content_type = message.alternatives[0]
    assert content_type == "text/html"
    assert "https://app.example.com/account/reset?from=mail&amp;token=" in html
    assert mails.link("https://x.example/r?t={token}", "a+b/c=d e") == "https://x.example/r?t=a%2Bb%2Fc%3Dd%20e"


def test_a_weak_password_is_refused_and_the_link_keeps_working(alice):
    token = reset_token()
    refused = token_error(reset(token, "12345678"))
    assert list(refused) == ["newPassword"]
    assert logs_in("alice", PASSWORD)
    assert reset(token) == {"data": {"resetPassword": True}}


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "A" * 43, "A" * 44, "\x00" * 43, "x" * 10_000],
    ids=["empty", "short", "unknown", "too long", "nul", "huge"],
)
def test_a_token_that_was_never_issued_is_refused_on_the_token_field(alice, token):
    assert token_error(reset(token)) == {"token": [token_error(reset("A" * 43))["token"][0]]}
    assert logs_in("alice", PASSWORD)


def test_the_link_expires_after_password_reset_timeout(alice):
    with time_machine.travel(START, tick=False) as clock:
        token = reset_token()
        clock.shift(timedelta(seconds=3599))
        assert reset(token) == {"data": {"resetPassword": True}}

        token = reset_token()
        clock.shift(timedelta(seconds=3600))
        assert list(token_error(reset(token))) == ["token"]

        token = reset_token()
        clock.shift(timedelta(seconds=10))
        with override_settings(PASSWORD_RESET_TIMEOUT=5):  # read on each use: lowering it ends older links
            assert list(token_error(reset(token))) == ["token"]
        assert reset(token, "the last passphrase") == {"data": {"resetPassword": True}}
    assert logs_in("alice", "the last passphrase")


@pytest.mark.parametrize("how", ["changePassword", "admin or shell", "another reset"])
def test_a_new_password_set_any_way_ends_the_link(alice, how):
    token = reset_token()
    if how == "changePassword":
        client = GraphQLClient().authenticate(GraphQLClient().login("alice")["access"])
        changed = client.execute(
            "mutation($o: String!, $n: String!) { changePassword(oldPassword: $o, newPassword: $n) { refresh } }",
            {"o": PASSWORD, "n": "changed in the api 1"},
        )
        assert "errors" not in changed
    elif how == "admin or shell":
        alice.set_password("changed in a shell 1")
        alice.save()
    else:
        assert reset(reset_token()) == {"data": {"resetPassword": True}}
    assert list(token_error(reset(token))) == ["token"]


def test_a_new_address_ends_the_link(alice):
    token = reset_token()
    User.objects.filter(pk=alice.pk).update(email="alice@elsewhere.example")
    assert list(token_error(reset(token))) == ["token"]


def test_a_reset_ends_every_session_and_api_key_and_is_audited(alice):
    login = GraphQLClient().login("alice")
    client = GraphQLClient().authenticate(login["access"])
    secret = client.execute('mutation($pw: String!) { createApiKey(name: "ci", password: $pw) { secret } }',
                            {"pw": PASSWORD})["data"]["createApiKey"]["secret"]  # fmt: skip
    by_key = GraphQLClient()
    by_key.headers = {"HTTP_X_API_KEY": secret}
    assert by_key.execute("{ me { username } }") == {"data": {"me": {"username": "alice"}}}

    assert reset(reset_token()) == {"data": {"resetPassword": True}}

    assert only_error(client.execute("{ me { username } }"))["extensions"]["reason"] == "token_revoked"
    assert only_error(by_key.execute("{ me { username } }"))["extensions"]["reason"] == "api_key_invalid"
    refreshed = GraphQLClient().execute(
        "mutation($r: String!) { refreshToken(refresh: $r) { access } }", {"r": login["refresh"]}
    )
    assert only_error(refreshed)["extensions"]["reason"] == "token_revoked"
    assert alice.login_sessions.filter(revoked_at__isnull=True).count() == 0
    events = list(AuditEvent.objects.filter(user=alice).values_list("type", flat=True).order_by("pk"))
    assert events[-2:] == [AuditEvent.Type.API_KEY_REVOKED, AuditEvent.Type.PASSWORD_RESET]


def test_the_reset_proves_the_address(alice):
    assert not alice.email_verified
    assert reset(reset_token()) == {"data": {"resetPassword": True}}
    alice.refresh_from_db()
    assert alice.email_verified


def test_two_factor_login_stays_on_after_a_reset(alice):
    client = GraphQLClient().authenticate(GraphQLClient().login("alice")["access"])
    secret = client.execute("mutation { setupTotp { secret } }")["data"]["setupTotp"]["secret"]
    confirmed = client.execute(
        "mutation($code: String!, $pw: String!) { confirmTotp(code: $code, password: $pw) { recoveryCodes } }",
        {"code": pyotp.TOTP(secret).now(), "pw": PASSWORD},
    )
    assert "errors" not in confirmed
    assert reset(reset_token()) == {"data": {"resetPassword": True}}
    refused = GraphQLClient().execute(LOGIN, {"username": "alice", "password": NEW_PASSWORD})
    assert error_codes(refused) == ["OTP_REQUIRED"]


@override_settings(LOGIN_RATE_LIMIT="1/m")
def test_reset_password_does_not_spend_the_password_budget(alice):
    GraphQLClient().execute(LOGIN, {"username": "alice", "password": "wrong"})
    assert error_codes(GraphQLClient().execute(LOGIN, {"username": "alice", "password": PASSWORD})) == ["RATE_LIMITED"]
    assert reset(reset_token()) == {"data": {"resetPassword": True}}


@override_settings(PASSWORD_RESET_RATE_LIMIT="2/h")
def test_the_rate_limit_is_silent_per_address_and_per_client(alice, bob):
    answers = [request_reset("alice@example.com", client_ip=f"203.0.113.{n}") for n in range(1, 4)]
    answers += [request_reset(address, client_ip="198.51.100.7") for address in
                ("bob@example.com", "nobody@example.com", "bob@example.com")]  # fmt: skip
    assert answers == [{"data": {"requestPasswordReset": True}}] * 6
    # The third for alice's address (from a third client), and the third from one client, queue nothing.
    assert [job[1]["address"] for job in queued_jobs()] == [
        "alice@example.com",
        "alice@example.com",
        "bob@example.com",
        "nobody@example.com",
    ]
    assert AuditEvent.objects.filter(type=AuditEvent.Type.RATE_LIMITED).count() == 2
    run_mail_queue()
    assert len(delivered("alice@example.com")) == 2
    assert len(delivered("bob@example.com")) == 1


def test_reset_password_is_rate_limited_per_client(alice):
    with override_settings(TOKEN_RATE_LIMIT="3/m"):
        codes = [error_codes(reset("A" * 43)) for _ in range(4)]
    assert codes == [["BAD_USER_INPUT"]] * 3 + [["RATE_LIMITED"]]


def test_the_reset_token_is_stored_only_as_a_digest(alice):
    token = reset_token()
    stored = LinkToken.objects.get()
    assert token not in {stored.digest, stored.state, stored.sent_to}
    for job in DBTaskResult.objects.all():
        assert token not in str(job.args_kwargs) + job.traceback
