"""The lookups every request makes, compiled once (accounts.compiled_lookup): the same instances as
the queryset they stand for, field by field, on SQLite and on PostgreSQL, in one query."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import apikeys
from accounts.authentication import SESSION_WITH_USER
from accounts.compiled_lookup import CompiledLookup
from accounts.models import ApiKey, LoginSession, User
from accounts.request_meta import RequestMeta
from accounts.sessions import start_session
from tasks.models import Task
from tasks.selectors import OWN_TASK_WITH_OWNER, TASK_WITH_OWNER
from tests.graphql_util import PASSWORD


def assert_same_instance(found, expected):
    assert type(found) is type(expected)
    assert (found._state.db, found._state.adding) == (expected._state.db, expected._state.adding)
    for field in expected._meta.concrete_fields:
        found_value, expected_value = getattr(found, field.attname), getattr(expected, field.attname)
        assert found_value == expected_value, field.name
        assert type(found_value) is type(expected_value), field.name
        if hasattr(expected_value, "tzinfo"):
            assert found_value.tzinfo == expected_value.tzinfo, field.name


def assert_found_as_the_queryset_finds_it(lookup, value, django_assert_num_queries):
    expected = lookup.model.objects.select_related(lookup.related).get(**{lookup.key: value})
    with django_assert_num_queries(1):
        found = lookup.find(value)
        related = getattr(found, lookup.related)  # loaded with it, as select_related leaves it
    assert_same_instance(found, expected)
    assert_same_instance(related, getattr(expected, lookup.related))


def test_a_session_and_its_user_are_what_the_queryset_reads(make_user, django_assert_num_queries):
    alice, bob = make_user("alice"), make_user("bob")
    User.objects.filter(pk=bob.pk).update(
        first_name="Bøb", last_login=timezone.now() - timedelta(days=1), is_staff=True, is_active=False
    )
    sessions = [start_session(alice).session_id, start_session(bob).session_id, start_session(alice).session_id]
    LoginSession.objects.filter(pk=sessions[2]).revoke()
    # The first find compiles the SQL; the others run it with their own id.
    for session_id in sessions:
        assert_found_as_the_queryset_finds_it(SESSION_WITH_USER, session_id, django_assert_num_queries)
    assert SESSION_WITH_USER.find(sessions[1]).user.first_name == "Bøb"


def test_an_api_key_and_its_owner_are_what_the_queryset_reads(alice, bob, django_assert_num_queries):
    created = [apikeys.create(user, "key", read_only, None, PASSWORD, RequestMeta())[0] for user, read_only in (
        (alice, False), (bob, True),
    )]  # fmt: skip
    ApiKey.objects.filter(pk=created[1].pk).update(last_used_at=timezone.now(), last_used_ip="2001:db8::1")
    for key in created:
        assert_found_as_the_queryset_finds_it(apikeys.KEY_WITH_USER, key.prefix, django_assert_num_queries)


def test_nothing_is_found_for_a_value_no_row_has(alice, django_assert_num_queries):
    start_session(alice)
    with django_assert_num_queries(1):
        assert SESSION_WITH_USER.find(uuid.uuid4()) is None
    with django_assert_num_queries(1):
        assert apikeys.KEY_WITH_USER.find("gqlauth_0000000000000000") is None


def test_only_a_unique_key_may_be_looked_up():
    with pytest.raises(ValueError, match="not unique"):
        CompiledLookup(ApiKey, "name", related="user")


def test_sql_unlike_the_one_expected_is_refused_loudly(alice, request):
    """Should Django compile the queryset with another parameter (or another select list), the
    lookup refuses to run it rather than run it with the wrong value in the wrong place."""
    session_id = start_session(alice).session_id
    request.getfixturevalue("sql_with_a_parameter_more")  # after the session is started
    with pytest.raises(RuntimeError, match="test_library_internals"):
        CompiledLookup(LoginSession, "pk", related="user").find(session_id)


def test_a_task_by_its_id_and_owner_is_what_the_queryset_reads(alice, bob, django_assert_num_queries):
    """task(id:) reads the viewer's own task by id and owner, and only then any task by id
    (tasks.selectors.visible_task)."""
    mine = Task.objects.create(owner=alice, title="Mine", description="ø")
    theirs = Task.objects.create(owner=bob, title="Theirs", completed=True)
    for task in (mine, theirs):
        with django_assert_num_queries(1):
            found = OWN_TASK_WITH_OWNER.find(task.pk, task.owner_id)
        expected = Task.objects.select_related("owner").get(pk=task.pk, owner=task.owner_id)
        assert_same_instance(found, expected)
        assert_same_instance(found.owner, expected.owner)
        assert_found_as_the_queryset_finds_it(TASK_WITH_OWNER, task.pk, django_assert_num_queries)
    with django_assert_num_queries(1):
        assert OWN_TASK_WITH_OWNER.find(theirs.pk, alice.pk) is None
    with pytest.raises(TypeError, match="owner"):
        OWN_TASK_WITH_OWNER.find(mine.pk)


def test_an_id_no_column_can_hold_finds_nothing_without_a_query(alice, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert TASK_WITH_OWNER.find(10**25) is None
        assert OWN_TASK_WITH_OWNER.find(1, -(10**25)) is None
