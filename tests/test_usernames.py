"""Usernames are unique by their canonical form (NFKC, case-folded), in the database itself.

`admin` and `ＡＤＭＩＮ` (fullwidth), `Émile` and `émile`, `STRASSE` and `straße` name one account:
registration refuses the second, login finds the first, and the per-username rate limit counts
them together. SQLite's lower() folds ASCII only, so the rule cannot rest on it.
"""

import threading
from unittest import mock

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts import usernames
from accounts.models import User
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes, only_error
from tests.test_registration import field_errors, register

LOOK_ALIKES = [
    ("raceX", "RACEX"),
    ("admin", "ａｄｍｉｎ"),  # fullwidth
    ("Émile", "émile"),
    ("straße", "STRASSE"),
    ("ǅemal", "ǆemal"),  # a titlecase and a lowercase digraph
]


@pytest.mark.parametrize(("first", "second"), LOOK_ALIKES)
def test_the_database_refuses_a_second_spelling_of_a_username(make_user, first, second):
    make_user(first, email="first@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        # create(), not create_user(): no application code normalizes or checks anything first.
        User.objects.create(username=second, email="second@example.com")
    assert User.objects.count() == 1


@pytest.mark.parametrize(("first", "second"), LOOK_ALIKES)
def test_register_refuses_a_second_spelling(gql, make_user, first, second):
    make_user(first, email="first@example.com")
    errors = field_errors(register(gql, username=second))
    assert errors == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


def test_usernames_are_stored_in_nfkc(gql):
    assert register(gql, username="ａｄｍｉｎ")["data"]["register"]["username"] == "admin"
    assert User.objects.get().username == "admin"


@pytest.mark.parametrize(("stored", "typed"), LOOK_ALIKES + [(second, first) for first, second in LOOK_ALIKES])
def test_login_accepts_any_spelling_of_the_username(gql, make_user, stored, typed):
    user = make_user(stored)
    assert gql.login(typed)["user"]["username"] == user.username


@time_machine.travel(timezone.now(), tick=False)  # one rate-limit window
def test_every_spelling_counts_against_one_per_username_limit(gql, make_user):
    make_user("Émile")
    # Each from its own address, so that only the per-username count can refuse the last one.
    for number, spelling in enumerate(["Émile", "émile", "ÉMILE", "E\u0301mile", "e\u0301MILE"]):
        result = gql.execute(LOGIN, {"username": spelling, "password": "wrong"}, REMOTE_ADDR=f"192.0.2.{number}")
        assert error_codes(result) == ["INVALID_CREDENTIALS"]
    result = gql.execute(LOGIN, {"username": "éMiLe", "password": PASSWORD}, REMOTE_ADDR="192.0.2.99")
    assert error_codes(result) == ["RATE_LIMITED"]


@pytest.mark.parametrize(
    "rename",
    [
        lambda user: (setattr(user, "username", "Second"), user.save()),
        lambda user: (setattr(user, "username", "Second"), user.save(update_fields=["username"])),
        lambda user: User.objects.filter(pk=user.pk).update(username="Second"),
        lambda user: (setattr(user, "username", "Second"), User.objects.bulk_update([user], ["username"])),
    ],
    ids=["save", "save update_fields", "queryset update", "bulk_update"],
)
def test_renaming_keeps_the_canonical_form_in_step(make_user, rename):
    user = make_user("first")
    rename(user)
    assert User.objects.get(pk=user.pk).canonical_username == "second"
    assert User.objects.get_by_natural_key("SECOND").pk == user.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="second")


def test_the_admin_refuses_a_second_spelling_with_a_form_error(client, make_user):
    make_user("Émile", email="first@example.com")
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/accounts/user/add/",
        {"username": "émile", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )
    assert response.status_code == 200
    assert "A user with that username already exists." in response.context["adminform"].form.errors["username"]
    assert not User.objects.filter(username="émile").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_of_case_variants_create_one_account():
    """Real threads; each passes the application's own check before any of them inserts."""
    spellings = ["raceX", "RACEX", "RaceX", "racex"]
    all_checked = threading.Barrier(len(spellings), timeout=10)
    set_password = User.set_password

    def set_password_once_all_checked(user, raw_password):
        all_checked.wait()
        set_password(user, raw_password)

    results = {}

    def attempt(number, spelling):
        try:
            results[spelling] = register(GraphQLClient(), username=spelling, email=f"racer{number}@example.com")
        finally:
            connection.close()

    with mock.patch.object(User, "set_password", set_password_once_all_checked):
        threads = [threading.Thread(target=attempt, args=item) for item in enumerate(spellings)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    created = [result for result in results.values() if result.get("data")]
    refused = [only_error(result)["extensions"] for result in results.values() if not result.get("data")]
    assert len(created) == 1 and User.objects.count() == 1
    assert (
        refused
        == [{"code": "BAD_USER_INPUT", "fieldErrors": {"username": ["A user with that username already exists."]}}] * 3
    )


@pytest.mark.parametrize(
    ("text", "username"),
    [
        ("Alice.Smith+work", "Alice.Smith+work"),
        ("o'brien!#$%&*=?^`{|}~", "obrien"),  # an email's local part may hold what a username may not
        ("ｆｕｌｌｗｉｄｔｈ", "fullwidth"),
        ("ᄀ!ᅡ", "가"),  # two jamo brought together compose, as NFKC stores them
        ("x" * 200, "x" * 150),
        ("!!!", ""),
    ],
)
def test_a_username_derived_from_other_text_holds_only_what_a_username_may(text, username):
    derived = usernames.derived(text)
    assert derived == username
    if derived:
        User._meta.get_field("username").run_validators(derived)
        assert usernames.normalized(derived) == derived


def test_a_derived_username_is_made_unique_in_any_spelling(make_user):
    from accounts.oidc import _available_username

    for number in ["", *range(2, 10)]:
        assert _available_username("Ada") == f"Ada{number}"
        make_user(f"ADA{number}", email=f"ada{number}@example.com")
    crowded = _available_username("Ada")
    assert crowded.startswith("Ada-") and len(crowded) == len("Ada-") + 8
    assert len(_available_username("a" * 150)) == 150
