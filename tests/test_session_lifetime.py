"""A session lives at most JWT_SESSION_MAX_LIFETIME seconds from its tokenAuth, however often it
is refreshed: no token of it expires later, and after the cap its refresh token is expired."""

from datetime import datetime, timedelta

import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from tests.graphql_util import GraphQLClient
from tests.test_refresh_and_revoke import me, reason
from tests.tokens_util import claims_of

REFRESH = "mutation($r: String!) { refreshToken(refresh: $r) { access refresh refreshExpiresAt } }"


def refresh(token):
    return GraphQLClient().execute(REFRESH, {"r": token})


def expiry(timestamp):
    return datetime.fromisoformat(timestamp)


def test_refreshing_never_carries_a_session_past_its_cap(gql, alice):
    assert settings.JWT["SESSION_MAX_LIFETIME"] == 30 * 24 * 3600
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as clock:
        pair = gql.login("alice")
        cap = timezone.now() + timedelta(days=30)
        while timezone.now() + timedelta(hours=23) < cap:
            clock.shift(timedelta(hours=23))
            pair = refresh(pair["refresh"])["data"]["refreshToken"]
            assert expiry(pair["refreshExpiresAt"]) <= cap
            assert claims_of(pair["refresh"])["exp"] <= cap.timestamp()
            assert claims_of(pair["access"])["exp"] <= cap.timestamp()
        assert expiry(pair["refreshExpiresAt"]) == cap  # the last day was cut short

        clock.move_to(cap - timedelta(seconds=1))
        assert me(refresh(pair["refresh"])["data"]["refreshToken"]["access"])["data"]["me"]["username"] == "alice"
        clock.move_to(cap + timedelta(seconds=1))
        assert reason(refresh(pair["refresh"])) == "token_expired"


@override_settings(JWT={**settings.JWT, "SESSION_MAX_LIFETIME": 120})
def test_a_cap_shorter_than_the_token_lifetimes_cuts_both_tokens(gql, alice):
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False):
        pair = gql.login("alice")
        cap = timezone.now() + timedelta(seconds=120)
    assert expiry(pair["accessExpiresAt"]) == expiry(pair["refreshExpiresAt"]) == cap


def test_lowering_the_cap_ends_older_sessions_at_once(gql, alice):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        pair = gql.login("alice")
        clock.shift(timedelta(seconds=61))
        with override_settings(JWT={**settings.JWT, "SESSION_MAX_LIFETIME": 60}):
            # Both tokens were signed to live longer (5 minutes, 1 day): the server decides.
            assert reason(refresh(pair["refresh"])) == "token_expired"
            assert reason(me(pair["access"])) == "token_expired"
        assert me(pair["access"])["data"]["me"]["username"] == "alice"
