"""One password budget per user (API.md section 7): every password check of every mutation counts.

A stolen access token must not buy extra guesses: changePassword, disableTotp, confirmTotp and
createApiKey check the viewer's password, and each check spends the same `LOGIN_RATE_LIMIT` budget
as tokenAuth's attempts at that username. Answers never tell a right password from a wrong one
before every other check passed.
"""

from datetime import UTC, datetime

import pyotp
import pytest
import time_machine

from accounts.models import ApiKey, TotpDevice
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes, only_error

WRONG = "not the password"
NEW_PASSWORD = "a brand new passphrase"

CHANGE_PASSWORD = """
mutation($old: String!, $new: String!) { changePassword(oldPassword: $old, newPassword: $new) { access } }
"""
DISABLE = "mutation($password: String!, $code: String!) { disableTotp(password: $password, code: $code) }"
SETUP = "mutation { setupTotp { secret } }"
CONFIRM = """
mutation($code: String!, $password: String) { confirmTotp(code: $code, password: $password) { recoveryCodes } }
"""
CREATE_KEY = """
mutation($name: String!, $password: String) { createApiKey(name: $name, password: $password) { secret } }
"""

# One attempt of each password check, with the password given; the code is not the point here.
PASSWORD_CHECKS = {
    "tokenAuth": lambda client, password: GraphQLClient().execute(
        LOGIN, {"username": "alice", "password": password}, REMOTE_ADDR="10.0.0.1"
    ),
    "changePassword": lambda client, password: client.execute(CHANGE_PASSWORD, {"old": password, "new": NEW_PASSWORD}),
    "disableTotp": lambda client, password: client.execute(DISABLE, {"password": password, "code": "123456"}),
    "confirmTotp": lambda client, password: client.execute(CONFIRM, {"code": "123456", "password": password}),
    "createApiKey": lambda client, password: client.execute(CREATE_KEY, {"name": "ci", "password": password}),
}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def login(username="alice", password=PASSWORD, **extra):
    return GraphQLClient().execute(LOGIN, {"username": username, "password": password}, **extra)


def assert_nothing_changed(alice):
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert not ApiKey.objects.exists()
    assert not TotpDevice.objects.filter(confirmed_at__isnull=False).exists()


def test_wrong_passwords_in_different_mutations_spend_one_budget(alice, client_for):
    client = client_for(alice)
    for _ in range(3):
        assert error_codes(PASSWORD_CHECKS["changePassword"](client, WRONG)) == ["BAD_USER_INPUT"]
    for _ in range(2):
        assert error_codes(PASSWORD_CHECKS["disableTotp"](client, WRONG)) == ["BAD_USER_INPUT"]

    # From another address too: the budget is the user's, not the client's.
    refused = only_error(login(REMOTE_ADDR="10.9.9.9"))
    assert refused["extensions"]["code"] == "RATE_LIMITED" and refused["extensions"]["retryAfter"] > 0
    for name, check in PASSWORD_CHECKS.items():
        assert error_codes(check(client, PASSWORD)) == ["RATE_LIMITED"], name
    assert_nothing_changed(alice)


@pytest.mark.parametrize("mutation", sorted(PASSWORD_CHECKS))
def test_each_password_check_spends_the_budget_of_every_other(alice, bob, client_for, mutation):
    client = client_for(alice)
    for _ in range(5):
        assert error_codes(PASSWORD_CHECKS[mutation](client, WRONG)) != ["RATE_LIMITED"]

    for name, check in PASSWORD_CHECKS.items():
        assert error_codes(check(client, PASSWORD)) == ["RATE_LIMITED"], name
    assert_nothing_changed(alice)
    assert "errors" not in login("bob", REMOTE_ADDR="10.9.9.9"), "another user's budget is untouched"


def test_the_budget_is_the_users_however_the_name_is_typed(alice, client_for):
    # Fullwidth letters and another case are the same name once normalized (NFKC) and casefolded.
    for _ in range(5):
        assert error_codes(login("ＡＬＩＣＥ", WRONG, REMOTE_ADDR="10.0.0.1")) == ["INVALID_CREDENTIALS"]
    client = client_for(alice)
    assert error_codes(PASSWORD_CHECKS["changePassword"](client, PASSWORD)) == ["RATE_LIMITED"]
    assert error_codes(login("alice", REMOTE_ADDR="10.9.9.9")) == ["RATE_LIMITED"]


def answer(result):
    """What the client learns: the codes, messages and extensions of every error."""
    return [(error["message"], error["extensions"]) for error in result.get("errors", [])]


def test_disable_totp_without_totp_answers_alike_for_the_right_and_a_wrong_password(alice, client_for):
    client = client_for(alice)
    right = client.execute(DISABLE, {"password": PASSWORD, "code": "123456"})
    wrong = client.execute(DISABLE, {"password": WRONG, "code": "123456"})
    assert answer(right) == answer(wrong)
    assert error_codes(right) == ["BAD_USER_INPUT"]


def test_disable_totp_with_a_wrong_code_answers_alike_for_the_right_and_a_wrong_password(alice, client_for):
    client = client_for(alice)
    secret = client.execute(SETUP)["data"]["setupTotp"]["secret"]
    assert "errors" not in client.execute(CONFIRM, {"code": pyotp.TOTP(secret).now(), "password": PASSWORD})

    right = client.execute(DISABLE, {"password": PASSWORD, "code": "not-a-code"})
    wrong = client.execute(DISABLE, {"password": WRONG, "code": "not-a-code"})
    assert answer(right) == answer(wrong)
    assert list(only_error(right)["extensions"]["fieldErrors"]) == ["code"]
    assert TotpDevice.objects.get(user=alice).is_confirmed


def test_change_password_to_a_weak_one_answers_alike_for_the_right_and_a_wrong_old_password(alice, client_for):
    client = client_for(alice)
    right = client.execute(CHANGE_PASSWORD, {"old": PASSWORD, "new": "short"})
    wrong = client.execute(CHANGE_PASSWORD, {"old": WRONG, "new": "short"})
    assert answer(right) == answer(wrong)
    assert list(only_error(right)["extensions"]["fieldErrors"]) == ["newPassword"]
    assert_nothing_changed(alice)


def test_create_api_key_with_a_bad_name_answers_alike_for_the_right_and_a_wrong_password(alice, client_for):
    client = client_for(alice)
    right = client.execute(CREATE_KEY, {"name": " ", "password": PASSWORD})
    wrong = client.execute(CREATE_KEY, {"name": " ", "password": WRONG})
    assert answer(right) == answer(wrong)
    assert list(only_error(right)["extensions"]["fieldErrors"]) == ["name"]
    assert_nothing_changed(alice)
