"""Rate limits of the public mutations (docs/security.md), through the real endpoint."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from accounts.models import AuditEvent
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes

WRONG = "not the password"

REGISTER = """
mutation Register($input: RegisterInput!) { register(input: $input) { username } }
"""


def attempt(client, username, password=WRONG, **extra):
    return client.execute(LOGIN, {"username": username, "password": password}, **extra)


def codes(results):
    return [error_codes(result) for result in results]


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def test_five_wrong_passwords_a_minute_then_rate_limited_with_retry_after(gql, alice, clock):
    results = [attempt(gql, "alice") for _ in range(6)]
    assert codes(results) == [["INVALID_CREDENTIALS"]] * 5 + [["RATE_LIMITED"]]
    error = results[-1]["errors"][0]
    assert 1 <= error["extensions"]["retryAfter"] <= 61
    assert results[-1]["data"] is None


def test_a_limited_login_is_refused_even_with_the_right_password(gql, alice, clock):
    for _ in range(5):
        attempt(gql, "alice")
    assert error_codes(attempt(gql, "alice", PASSWORD)) == ["RATE_LIMITED"]


def test_the_limit_is_per_username_across_client_addresses(gql, alice, clock):
    for number in range(5):
        attempt(gql, "alice", REMOTE_ADDR=f"10.0.0.{number}")
    assert error_codes(attempt(gql, "alice", PASSWORD, REMOTE_ADDR="10.0.0.99")) == ["RATE_LIMITED"]
    # Other users are not locked out from those addresses.
    assert error_codes(attempt(gql, "bob", REMOTE_ADDR="10.0.0.1")) == ["INVALID_CREDENTIALS"]


CLIENT_ADDRESSES = {
    # name: (headers of the five attempts, by number; headers counted as the same client; another client)
    "remote address": (
        lambda number: {},
        {},
        {"REMOTE_ADDR": "10.9.9.9"},
    ),
    "IPv6 /64": (
        lambda number: {"REMOTE_ADDR": f"2001:db8:1:2::{number + 1}"},
        {"REMOTE_ADDR": "2001:db8:1:2:ffff::1"},
        {"REMOTE_ADDR": "2001:db8:1:3::1"},
    ),
    "spoofed X-Forwarded-For": (
        lambda number: {"HTTP_X_FORWARDED_FOR": f"203.0.113.{number}"},
        {"HTTP_X_FORWARDED_FOR": "203.0.113.200"},
        {"REMOTE_ADDR": "10.9.9.9", "HTTP_X_FORWARDED_FOR": "203.0.113.1"},
    ),
    # Behind one trusted proxy: the client forged the left entry, the proxy appended the right one.
    "trusted proxy": (
        lambda number: {"HTTP_X_FORWARDED_FOR": f"198.51.100.{number}, 203.0.113.7"},
        {"HTTP_X_FORWARDED_FOR": "203.0.113.7"},
        {"HTTP_X_FORWARDED_FOR": "203.0.113.8"},
    ),
}


@pytest.mark.parametrize("case", CLIENT_ADDRESSES)
def test_the_limit_is_per_client_address_across_usernames(gql, alice, clock, case):
    attempt_headers, same_client, other_client = CLIENT_ADDRESSES[case]
    with override_settings(TRUSTED_PROXY_COUNT=1 if case == "trusted proxy" else 0):
        for number in range(5):
            attempt(gql, f"someone{number}", **attempt_headers(number))
        assert error_codes(attempt(gql, "alice", PASSWORD, **same_client)) == ["RATE_LIMITED"]
        assert "errors" not in attempt(gql, "alice", PASSWORD, **other_client)


def test_aliases_in_one_document_count_as_separate_attempts(gql, alice, clock):
    # Mutation fields run one after another; with the right password each alias logs in,
    # until the sixth is refused.
    fields = " ".join(f'a{n}: tokenAuth(username: "alice", password: "{PASSWORD}") {{ access }}' for n in range(50))
    with override_settings(GRAPHQL_MAX_ALIASES=50):
        result = gql.execute(f"mutation {{ {fields} }}")
    assert error_codes(result) == ["RATE_LIMITED"]
    assert AuditEvent.objects.filter(type=AuditEvent.Type.LOGIN_SUCCESS).count() == 5


def test_the_limit_resets_after_the_window(gql, alice, clock):
    for _ in range(6):
        attempt(gql, "alice")
    assert error_codes(attempt(gql, "alice", PASSWORD)) == ["RATE_LIMITED"]
    clock.shift(timedelta(seconds=61))
    assert "errors" not in attempt(gql, "alice", PASSWORD)


def test_retry_after_says_when_the_window_ends(gql, alice, clock):
    for _ in range(5):
        attempt(gql, "alice")
    retry_after = attempt(gql, "alice")["errors"][0]["extensions"]["retryAfter"]
    clock.shift(timedelta(seconds=retry_after - 1))
    assert error_codes(attempt(gql, "alice", PASSWORD)) == ["RATE_LIMITED"]
    clock.shift(timedelta(seconds=1))
    assert "errors" not in attempt(gql, "alice", PASSWORD)


@override_settings(LOGIN_RATE_LIMIT="2/h")
def test_the_login_limit_comes_from_settings(gql, alice, clock):
    results = [attempt(gql, "alice") for _ in range(3)]
    assert codes(results) == [["INVALID_CREDENTIALS"]] * 2 + [["RATE_LIMITED"]]
    assert results[-1]["errors"][0]["extensions"]["retryAfter"] <= 3601


def test_rate_limited_attempts_are_audited_with_the_username(gql, alice, clock):
    for _ in range(6):
        attempt(gql, "alice", HTTP_USER_AGENT="curl/8")
    event = AuditEvent.objects.get(type=AuditEvent.Type.RATE_LIMITED)
    assert (event.username, event.ip, event.user_agent, event.success) == ("alice", "127.0.0.1", "curl/8", False)


def register(client, number, **extra):
    account = {
        "username": f"user{number}",
        "email": f"user{number}@example.com",
        "password": PASSWORD,
        "passwordConfirm": PASSWORD,
    }
    return client.execute(REGISTER, {"input": account}, **extra)


def test_registration_is_limited_to_twenty_an_hour_per_address(gql, clock):
    results = [register(gql, number) for number in range(21)]
    assert codes(results) == [[]] * 20 + [["RATE_LIMITED"]]
    assert "errors" not in register(gql, 99, REMOTE_ADDR="10.1.1.1")
    clock.shift(timedelta(hours=1, seconds=1))
    assert "errors" not in register(gql, 100)


@override_settings(REGISTER_RATE_LIMIT="1/m")
def test_invalid_registrations_count_too(gql, clock):
    assert error_codes(
        GraphQLClient().execute(
            REGISTER, {"input": {"username": "x", "email": "bad", "password": "1", "passwordConfirm": "2"}}
        )
    ) == ["BAD_USER_INPUT"]
    assert error_codes(register(gql, 1)) == ["RATE_LIMITED"]


@override_settings(TOKEN_RATE_LIMIT="2/m")
@pytest.mark.parametrize("mutation", ["refreshToken", "revokeToken"])
def test_refresh_and_revoke_are_limited_per_client_address(gql, clock, mutation):
    document = f"mutation($r: String!) {{ {mutation}(refresh: $r) {{ __typename }} }}"
    results = [gql.execute(document, {"r": "not a token"}) for _ in range(3)]
    assert codes(results) == [["UNAUTHENTICATED"]] * 2 + [["RATE_LIMITED"]]
    assert results[-1]["errors"][0]["extensions"]["retryAfter"] <= 61
    assert error_codes(gql.execute(document, {"r": "not a token"}, REMOTE_ADDR="10.1.1.1")) == ["UNAUTHENTICATED"]
    assert AuditEvent.objects.filter(type=AuditEvent.Type.RATE_LIMITED).count() == 1
