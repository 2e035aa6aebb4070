"""Two-factor login (API.md section 7), on a clock the tests control."""

import logging
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from django.test import Client, override_settings

from accounts.models import AuditEvent, RecoveryCode, TotpDevice
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes, only_error

# Ten seconds into a 30-second step, so that shifting by whole steps never lands on an edge.
START = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)

SETUP = "mutation { setupTotp { secret provisioningUri qrCodeSvg } }"
CONFIRM = """
mutation Confirm($code: String!, $password: String) { confirmTotp(code: $code, password: $password) { recoveryCodes } }
"""
DISABLE = "mutation Disable($password: String!, $code: String!) { disableTotp(password: $password, code: $code) }"
TOTP_ENABLED = "{ me { totpEnabled } }"


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def code_at(secret, moment):
    """What an authenticator app shows at `moment`: pyotp on its own, not the server's code."""
    return pyotp.TOTP(secret).at(moment)


def wrong_code(secret):
    """A six-digit code that no step within the allowed drift of now produces."""
    near = {code_at(secret, now() + offset * STEP) for offset in (-2, -1, 0, 1, 2)}
    return next(code for code in ("000000", "111111", "222222", "333333", "444444", "555555") if code not in near)


def now():
    return datetime.now(UTC)


def login(username, otp=None, password=PASSWORD):
    return GraphQLClient().execute(LOGIN, {"username": username, "password": password, "otp": otp})


def confirm(client, code, password=PASSWORD):
    return client.execute(CONFIRM, {"code": code, "password": password})


def events(event_type):
    return AuditEvent.objects.filter(type=event_type)


@pytest.fixture
def setup_secret(alice, client_for, clock):
    """Alice, logged in (without spending her password budget), with a pending TOTP secret; returns (client, secret)."""
    client = client_for(alice)
    result = client.execute(SETUP)
    assert "errors" not in result, result
    return client, result["data"]["setupTotp"]["secret"]


@pytest.fixture
def enabled(setup_secret, clock):
    """Alice with TOTP on, one step after the confirming code; returns (client, secret, recovery codes)."""
    client, secret = setup_secret
    result = confirm(client, code_at(secret, now()))
    assert "errors" not in result, result
    clock.shift(STEP)
    return client, secret, result["data"]["confirmTotp"]["recoveryCodes"]


@override_settings(LOGIN_RATE_LIMIT="100/m")  # ten password checks of alice; her budget is tested elsewhere
def test_full_totp_flow(alice, client_for, clock):
    client = client_for(alice)
    assert client.execute(TOTP_ENABLED)["data"]["me"]["totpEnabled"] is False

    setup = client.execute(SETUP)["data"]["setupTotp"]
    secret = setup["secret"]
    assert len(secret) == 32
    assert setup["provisioningUri"].startswith("otpauth://totp/")
    assert f"secret={secret}" in setup["provisioningUri"]
    assert setup["qrCodeSvg"].startswith("<svg xmlns=")
    # Pending until confirmed: logging in still needs no code.
    assert client.execute(TOTP_ENABLED)["data"]["me"]["totpEnabled"] is False
    assert "errors" not in login("alice")

    wrong = confirm(client, wrong_code(secret))
    assert only_error(wrong)["extensions"]["code"] == "BAD_USER_INPUT"
    assert "code" in only_error(wrong)["extensions"]["fieldErrors"]
    assert events("OTP_FAILURE").filter(user=alice, success=False).count() == 1
    assert client.execute(TOTP_ENABLED)["data"]["me"]["totpEnabled"] is False

    confirmed = confirm(client, code_at(secret, now()))
    recovery_codes = confirmed["data"]["confirmTotp"]["recoveryCodes"]
    assert len(recovery_codes) == len(set(recovery_codes)) == 10
    assert client.execute(TOTP_ENABLED)["data"]["me"]["totpEnabled"] is True
    assert events("TOTP_ENABLED").filter(user=alice).count() == 1

    # The code that confirmed is used up, even for logging in within its own step.
    assert error_codes(login("alice", code_at(secret, now()))) == ["OTP_INVALID"]
    assert error_codes(login("alice")) == ["OTP_REQUIRED"]

    clock.shift(STEP)
    assert error_codes(login("alice", wrong_code(secret))) == ["OTP_INVALID"]
    assert error_codes(login("alice", "12345")) == ["OTP_INVALID"]
    fresh_code = code_at(secret, now())
    tokens = login("alice", fresh_code)["data"]["tokenAuth"]
    assert tokens["user"]["username"] == "alice"
    assert error_codes(login("alice", fresh_code)) == ["OTP_INVALID"], "a code is accepted once"

    disabled = client.execute(DISABLE, {"password": PASSWORD, "code": recovery_codes[0]})
    assert disabled["data"]["disableTotp"] is True
    assert client.execute(TOTP_ENABLED)["data"]["me"]["totpEnabled"] is False
    assert events("TOTP_DISABLED").filter(user=alice).count() == 1
    assert "errors" not in login("alice")
    assert not TotpDevice.objects.filter(user=alice).exists()
    assert not RecoveryCode.objects.exists()


@override_settings(LOGIN_RATE_LIMIT="100/m")  # ten attempts from one address; the limit is tested elsewhere
def test_the_second_factor_is_only_asked_for_after_the_right_password(enabled, clock):
    _, secret, recovery_codes = enabled
    for otp in (None, wrong_code(secret), code_at(secret, now()), recovery_codes[0]):
        assert error_codes(login("alice", otp, password="wrong password")) == ["INVALID_CREDENTIALS"]
        assert error_codes(login("nobody", otp)) == ["INVALID_CREDENTIALS"]
    # Nothing was used up by those attempts.
    assert "errors" not in login("alice", code_at(secret, now()))
    clock.shift(STEP)
    assert "errors" not in login("alice", recovery_codes[0])


def test_a_code_one_step_old_is_accepted_and_two_steps_old_refused(enabled, clock):
    _, secret, _ = enabled
    clock.shift(STEP)  # past the step whose code confirmed
    one_step_ago = code_at(secret, now() - STEP)
    assert "errors" not in login("alice", one_step_ago)

    clock.shift(3 * STEP)
    two_steps_ago = code_at(secret, now() - 2 * STEP)
    assert error_codes(login("alice", two_steps_ago)) == ["OTP_INVALID"]
    assert error_codes(login("alice", code_at(secret, now() + 2 * STEP))) == ["OTP_INVALID"]
    assert "errors" not in login("alice", code_at(secret, now() + STEP)), "a clock one step behind is fine"


def test_after_a_newer_code_an_older_unused_one_is_refused(enabled, clock):
    _, secret, _ = enabled
    clock.shift(STEP)
    older, current = code_at(secret, now() - STEP), code_at(secret, now())
    assert "errors" not in login("alice", current)
    assert error_codes(login("alice", older)) == ["OTP_INVALID"]


@override_settings(LOGIN_RATE_LIMIT="100/m")  # twenty logins from one address
def test_each_recovery_code_works_once(enabled):
    _, _, recovery_codes = enabled
    for recovery_code in recovery_codes:
        assert "errors" not in login("alice", recovery_code)
        assert error_codes(login("alice", recovery_code)) == ["OTP_INVALID"]
    assert not RecoveryCode.objects.filter(used_at__isnull=True).exists()


def test_recovery_codes_are_read_the_way_people_type_them(enabled):
    _, _, recovery_codes = enabled
    typed = " " + recovery_codes[0].replace("-", "").upper() + " "
    assert "errors" not in login("alice", typed)


def test_recovery_codes_are_stored_as_digests_only(enabled):
    _, _, recovery_codes = enabled
    stored = set(RecoveryCode.objects.values_list("code_hash", flat=True))
    assert len(stored) == 10
    for recovery_code in recovery_codes:
        assert not any(recovery_code.replace("-", "") in digest for digest in stored)


def test_failed_codes_at_login_are_audited_and_log_nobody_in(enabled, alice):
    _, secret, _ = enabled
    failures, successes = events("OTP_FAILURE").count(), events("LOGIN_SUCCESS").count()
    login("alice", wrong_code(secret))
    login("alice", "not-a-recovery-code")
    login("alice")  # no code: a normal first step of a two-step login, not a failure
    assert events("OTP_FAILURE").filter(user=alice, success=False).count() == failures + 2
    assert events("LOGIN_SUCCESS").count() == successes


def test_disable_needs_the_password_and_an_unused_code(enabled, alice, clock):
    client, secret, _ = enabled
    wrong_password = client.execute(DISABLE, {"password": "nope", "code": code_at(secret, now())})
    assert only_error(wrong_password)["extensions"]["fieldErrors"] == {"password": ["The password is not correct."]}

    used = code_at(secret, now() - STEP)  # the code that confirmed
    wrong_code = client.execute(DISABLE, {"password": PASSWORD, "code": used})
    assert list(only_error(wrong_code)["extensions"]["fieldErrors"]) == ["code"]
    assert TotpDevice.objects.filter(user=alice).exists()

    assert client.execute(DISABLE, {"password": PASSWORD, "code": code_at(secret, now())})["data"]["disableTotp"]
    again = client.execute(DISABLE, {"password": PASSWORD, "code": code_at(secret, now())})
    assert only_error(again)["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_stolen_access_token_alone_cannot_turn_totp_on(alice, client_for, clock):
    """The takeover of issue 17: setupTotp, then confirmTotp with a code from the thief's own secret."""
    thief = client_for(alice)
    secret = thief.execute(SETUP)["data"]["setupTotp"]["secret"]
    code = code_at(secret, now())
    without_password = thief.execute(
        "mutation($code: String!) { confirmTotp(code: $code) { recoveryCodes } }", {"code": code}
    )
    for refused in (without_password, confirm(thief, code, password="a guess")):
        error = only_error(refused)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"
        assert list(error["extensions"]["fieldErrors"]) == ["password"]
    assert not TotpDevice.objects.filter(user=alice, confirmed_at__isnull=False).exists()
    assert not RecoveryCode.objects.exists()
    assert not events("TOTP_ENABLED").exists()
    assert "errors" not in login("alice"), "the owner still logs in with the password alone"
    # The refused attempts did not use the code up: with the password, the same code confirms.
    assert "errors" not in confirm(thief, code)


def test_confirm_checks_the_password_before_the_code(setup_secret):
    client, secret = setup_secret
    error = only_error(confirm(client, wrong_code(secret), password="a guess"))
    assert error["extensions"]["fieldErrors"] == {"password": ["The password is not correct."]}
    assert not events("OTP_FAILURE").exists()


def test_totp_cannot_be_set_up_or_confirmed_again_while_it_is_on(enabled, alice, clock):
    client, secret, _ = enabled
    assert error_codes(client.execute(SETUP)) == ["BAD_USER_INPUT"]
    assert error_codes(confirm(client, code_at(secret, now()))) == ["BAD_USER_INPUT"]
    device = TotpDevice.objects.get(user=alice)
    assert device.secret == secret and device.is_confirmed
    assert RecoveryCode.objects.filter(used_at__isnull=True).count() == 10
    assert events("TOTP_ENABLED").count() == 1
    assert "errors" not in login("alice", code_at(secret, now())), "the refused confirmation used no code up"


def test_setting_up_again_replaces_the_pending_secret(setup_secret, clock):
    client, first_secret = setup_secret
    second_secret = client.execute(SETUP)["data"]["setupTotp"]["secret"]
    assert second_secret != first_secret
    assert error_codes(confirm(client, code_at(first_secret, now()))) == ["BAD_USER_INPUT"]
    assert "errors" not in confirm(client, code_at(second_secret, now()))


def test_confirm_without_setup_is_bad_input(alice, as_user):
    result = confirm(as_user(alice), "123456")
    assert only_error(result)["extensions"]["fieldErrors"] == {"code": ["Start with setupTotp."]}


@override_settings(TOTP_ISSUER="Acme Tasks")
def test_the_issuer_name_comes_from_settings(alice, as_user):
    uri = as_user(alice).execute(SETUP)["data"]["setupTotp"]["provisioningUri"]
    assert uri.startswith("otpauth://totp/Acme%20Tasks:alice?")
    assert "issuer=Acme%20Tasks" in uri


@pytest.mark.parametrize("operation", [SETUP, CONFIRM, DISABLE])
def test_totp_mutations_need_a_viewer(gql, operation):
    result = gql.execute(operation, {"code": "123456", "password": PASSWORD})
    assert only_error(result)["extensions"] == {"code": "UNAUTHENTICATED", "reason": "missing_credentials"}


def test_secrets_and_codes_never_reach_logs_or_audit(alice, as_user, clock, caplog):
    caplog.set_level(logging.DEBUG)
    client = as_user(alice)
    secret = client.execute(SETUP)["data"]["setupTotp"]["secret"]
    confirm(client, wrong_code(secret))
    confirming_code = code_at(secret, now())
    recovery_codes = confirm(client, confirming_code)["data"]["confirmTotp"]["recoveryCodes"]
    clock.shift(STEP)
    login("alice", recovery_codes[0])
    login("alice", recovery_codes[0])

    audit_rows = str(list(AuditEvent.objects.values()))
    for sensitive in (secret, confirming_code, *recovery_codes):
        assert sensitive not in caplog.text
        assert sensitive not in audit_rows


def test_staff_see_devices_in_the_admin_but_never_secrets_and_can_reset_one(enabled, alice, make_user):
    _, secret, _ = enabled
    admin = make_user("root", is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(admin)
    device = TotpDevice.objects.get(user=alice)
    for page in ("/admin/accounts/totpdevice/", f"/admin/accounts/totpdevice/{device.pk}/change/"):
        response = browser.get(page)
        assert response.status_code == 200
        assert "alice" in response.content.decode()
        assert secret not in response.content.decode()

    assert browser.post(f"/admin/accounts/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not TotpDevice.objects.filter(user=alice).exists()
    assert events("TOTP_DISABLED").filter(user=alice).count() == 1
    assert "errors" not in login("alice")


@override_settings(LOGIN_RATE_LIMIT="3/m")
def test_confirming_and_disabling_spend_the_password_budget(setup_secret, alice, clock):
    client, secret = setup_secret
    for _ in range(3):
        assert error_codes(confirm(client, wrong_code(secret))) == ["BAD_USER_INPUT"]
    refused = only_error(confirm(client, code_at(secret, now())))
    assert refused["extensions"]["code"] == "RATE_LIMITED" and refused["extensions"]["retryAfter"] > 0

    clock.shift(timedelta(minutes=1))
    assert "errors" not in confirm(client, code_at(secret, now()))
    # The confirmation was the first attempt of this window; two wrong codes use up the rest.
    for _ in range(2):
        assert error_codes(client.execute(DISABLE, {"password": PASSWORD, "code": wrong_code(secret)})) == [
            "BAD_USER_INPUT"
        ]
    assert error_codes(client.execute(DISABLE, {"password": PASSWORD, "code": code_at(secret, now())})) == [
        "RATE_LIMITED"
    ]
    assert events("RATE_LIMITED").filter(user=alice, username="alice").count() == 2
