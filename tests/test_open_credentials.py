"""Checking the credentials of many open sockets at once (accounts.open_credentials): the same
answers as one request's checks, in a fixed number of queries."""

from datetime import timedelta

from django.utils import timezone

from accounts import apikeys
from accounts.authentication import ANONYMOUS, authenticate
from accounts.models import ApiKey, LoginSession, User
from accounts.open_credentials import current
from accounts.request_meta import RequestMeta
from accounts.sessions import start_session
from tests.graphql_util import PASSWORD


def viewer_of_token(user):
    return authenticate(f"Bearer {start_session(user).access}")


def viewer_of_key(user):
    _, secret = apikeys.create(user, "key", False, None, PASSWORD, RequestMeta())
    return authenticate(None, secret)


def test_each_credential_is_judged_as_a_request_would_judge_it(make_user, django_assert_num_queries):
    alice, bob, carol, dave, erin = (make_user(name) for name in ("alice", "bob", "carol", "dave", "erin"))
    usable, also_usable = viewer_of_token(alice), viewer_of_token(alice)
    revoked, new_password, deactivated = viewer_of_token(bob), viewer_of_token(carol), viewer_of_token(dave)
    key, revoked_key, expired_key = viewer_of_key(alice), viewer_of_key(alice), viewer_of_key(erin)
    LoginSession.objects.filter(pk=revoked.session_id).revoke()
    carol.set_password("something else entirely")
    carol.save()
    User.objects.filter(pk=dave.pk).update(is_active=False)
    ApiKey.objects.filter(pk=revoked_key.api_key.pk).update(revoked_at=timezone.now())
    ApiKey.objects.filter(pk=expired_key.api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    User.objects.filter(pk=alice.pk).update(is_staff=True)

    viewers = [usable, also_usable, revoked, new_password, deactivated, key, revoked_key, expired_key, ANONYMOUS]
    with django_assert_num_queries(2):  # the sessions, the keys: users joined
        now = current(viewers)

    assert {viewer: now[viewer] for viewer in viewers if isinstance(now[viewer], str)} == {
        revoked: "token_revoked",
        new_password: "token_revoked",
        deactivated: "token_revoked",
        revoked_key: "api_key_invalid",
        expired_key: "api_key_invalid",
    }
    fresh = now[usable]
    assert (fresh.session_id, fresh.expires_at, fresh.user.is_staff) == (usable.session_id, usable.expires_at, True)
    assert now[key].api_key.pk == key.api_key.pk and now[key].user.is_staff
    assert now[ANONYMOUS] is ANONYMOUS


def test_an_expired_token_is_refused_without_a_query(alice, django_assert_num_queries):
    viewer = viewer_of_token(alice)
    with django_assert_num_queries(0):
        assert current([viewer], now=viewer.expires_at) == {viewer: "token_expired"}


def test_a_session_past_its_cap_has_expired(alice, settings):
    viewer = viewer_of_token(alice)
    settings.JWT = {**settings.JWT, "SESSION_MAX_LIFETIME": 1}
    later = timezone.now() + timedelta(seconds=2)
    assert current([viewer], now=later)[viewer] == "token_expired"
