"""Rate-limit counters live until their window ends, however many other counters exist (issue 9, finding 1).

Django's database cache deletes a third of its rows once it holds more than MAX_ENTRIES (300),
unexpired or not, and every tokenAuth with a new username adds a counter: an attacker could
wipe the counters that were holding them back. These tests fill the counters' cache the way
that attack does and then look at the victim's limits; they run on whichever cache the suite
uses (the database cache, or Redis with REDIS_URL).
"""

import importlib
import ipaddress
import zlib
from datetime import UTC, datetime

import pytest
import redis
import time_machine
from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

import project.wsgi
from accounts.checks import RATE_LIMIT_CACHE
from tests.graphql_util import LOGIN, PASSWORD, error_codes

WRONG = "not the password"
# Each filler attempt adds two counters (its username and its address): three times the
# database cache's default size.
FILLER_ATTEMPTS = 450


def attempt(client, username, password=WRONG, address="127.0.0.1"):
    return client.execute(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def filler_address(number):
    return str(ipaddress.ip_address("10.200.0.0") + number)


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def counter_rows():
    """Rows of the counters' table, or None when the counters are not in the database."""
    counters = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    table = getattr(counters, "_table", None)
    if table is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def test_counters_outlast_a_cache_filled_with_new_usernames(gql, alice, clock):
    attacker = "203.0.113.66"
    for number in range(5):  # alice's username budget, spent from five addresses
        assert error_codes(attempt(gql, "alice", address=f"198.51.100.{number}")) == ["INVALID_CREDENTIALS"]
    for number in range(5):  # the attacker's own address budget
        assert error_codes(attempt(gql, f"guess{number}", address=attacker)) == ["INVALID_CREDENTIALS"]

    for number in range(FILLER_ATTEMPTS):
        assert error_codes(attempt(gql, f"filler{number}", address=filler_address(number))) == ["INVALID_CREDENTIALS"]

    assert error_codes(attempt(gql, "alice", PASSWORD, address="192.0.2.1")) == ["RATE_LIMITED"]
    assert error_codes(attempt(gql, "bob", address=attacker)) == ["RATE_LIMITED"]
    rows = counter_rows()
    assert rows is None or rows >= 2 * FILLER_ATTEMPTS, "every counter of the window is still there"


def test_attempts_refused_per_address_do_not_count_against_the_usernames_they_name(gql, alice, clock):
    attacker = "203.0.113.66"
    for number in range(5):
        attempt(gql, f"guess{number}", address=attacker)
    # The first refusal starts the audit log's count of this client's refusals (one counter a
    # client and minute, whatever the usernames).
    attempt(gql, "guess5", address=attacker)
    rows_before = counter_rows()
    refused = [attempt(gql, name, address=attacker) for name in ["alice"] * 5 + [f"new{n}" for n in range(20)]]
    assert {tuple(error_codes(result)) for result in refused} == {("RATE_LIMITED",)}
    assert counter_rows() == rows_before, "a refused attempt creates no counter"

    # Refused before its password was looked at, none of those was a guess at alice's password.
    from_elsewhere = [attempt(gql, "alice", address="192.0.2.1") for _ in range(6)]
    assert [error_codes(result) for result in from_elsewhere] == [["INVALID_CREDENTIALS"]] * 5 + [["RATE_LIMITED"]]


def test_retry_after_covers_every_limit_a_retry_would_meet(gql, alice):
    # django-ratelimit ends each key's window at an offset of crc32(value) % period seconds; at
    # this instant alice's window (offset 35) ends 59 s ahead, the address's (offset 32) 56 s ahead.
    assert (zlib.crc32(b"alice") % 60, zlib.crc32(b"127.0.0.1") % 60) == (35, 32)
    with time_machine.travel(datetime.fromtimestamp(1_700_000_040 + 36, UTC), tick=False) as clock:
        for _ in range(5):
            attempt(gql, "alice")
        retry_after = attempt(gql, "alice")["errors"][0]["extensions"]["retryAfter"]
        assert retry_after == 60
        clock.shift(retry_after - 1)
        assert error_codes(attempt(gql, "alice", PASSWORD)) == ["RATE_LIMITED"]
        clock.shift(1)
        assert "errors" not in attempt(gql, "alice", PASSWORD)


def test_an_hours_window_lasts_an_hour_however_quiet(gql):
    # Django's database cache gave a counter 300 s more life at each increment, not its window.
    register = "mutation ($input: RegisterInput!) { register(input: $input) { username } }"

    def account(number):
        return {"input": {"username": f"user{number}", "email": f"user{number}@example.com",
                          "password": PASSWORD, "passwordConfirm": PASSWORD}}  # fmt: skip

    # The address's hour-long window ends at an offset of crc32(address) % 3600: start just after it.
    start = 1_699_999_200 + zlib.crc32(b"127.0.0.1") % 3600 + 1
    with time_machine.travel(datetime.fromtimestamp(start, UTC), tick=False) as clock:
        for number in range(20):
            assert "errors" not in gql.execute(register, account(number))
        assert gql.execute(register, account(20))["errors"][0]["extensions"]["retryAfter"] == 3600
        clock.shift(400)
        assert error_codes(gql.execute(register, account(21))) == ["RATE_LIMITED"]


REDIS_COUNTERS = {
    alias: {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    for alias in ("default", "ratelimit")
}


@pytest.fixture
def redis_policy(monkeypatch):
    """Counters in a Redis whose CONFIG GET answers what the test sets (no server is asked)."""

    def answer(policy):
        def config_get(client, pattern):
            if isinstance(policy, Exception):
                raise policy
            return {pattern: policy}

        monkeypatch.setattr(redis.Redis, "config_get", config_get)

    with override_settings(CACHES=REDIS_COUNTERS, RATELIMIT_USE_CACHE="ratelimit"):
        yield answer


def rate_limit_cache_issues():
    return [(issue.id, issue.level) for issue in checks.run_checks(tags=[RATE_LIMIT_CACHE])]


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru", "volatile-ttl", "allkeys-random", "volatile-lfu"])
def test_a_redis_that_evicts_is_refused_at_startup(redis_policy, policy):
    redis_policy(policy)
    assert rate_limit_cache_issues() == [("accounts.E001", checks.ERROR)]
    with pytest.raises(SystemCheckError, match=f"maxmemory-policy {policy}"):
        importlib.reload(project.wsgi)


def test_a_redis_that_never_evicts_passes(redis_policy):
    redis_policy("noeviction")
    assert rate_limit_cache_issues() == []
    importlib.reload(project.wsgi)


@pytest.mark.parametrize(
    ("failure", "issue"),
    [
        (redis.ResponseError("unknown command 'CONFIG'"), "accounts.W001"),
        (redis.ConnectionError("refused"), "accounts.W002"),
    ],
)
def test_a_redis_that_hides_its_policy_gets_a_warning_not_a_refusal(redis_policy, capsys, failure, issue):
    redis_policy(failure)
    assert rate_limit_cache_issues() == [(issue, checks.WARNING)]
    importlib.reload(project.wsgi)
    assert issue in capsys.readouterr().err
