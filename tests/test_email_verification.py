"""Email verification and change of address (API.md section 11)."""

from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
import time_machine
from django.test import override_settings

from accounts.codenames import VIEW_USER
from accounts.models import AuditEvent, User
from schema.relay import to_global_id
from tests.graphql_util import PASSWORD, GraphQLClient, error_codes, only_error
from tests.mail_util import delivered, queued_jobs, run_mail_queue, token_in

REGISTER = "mutation Register($input: RegisterInput!) { register(input: $input) { id } }"
VERIFY = "mutation Verify($token: String!) { verifyEmail(token: $token) }"
RESEND = "mutation { resendVerificationEmail }"
CHANGE = "mutation Change($new: String!, $pw: String!) { changeEmail(newEmail: $new, password: $pw) }"
ME = "{ me { email emailVerified } }"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def register(username="dora", email="dora@example.com"):
    account = {"username": username, "email": email, "password": PASSWORD, "passwordConfirm": PASSWORD}
    result = GraphQLClient().execute(REGISTER, {"input": account})
    assert "errors" not in result, result
    return User.objects.get(username=username)


def verify(token):
    return GraphQLClient().execute(VERIFY, {"token": token})


def only_token_in_mail_to(address):
    run_mail_queue()
    (message,) = delivered(address)
    return token_in(message)


def field_errors(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT", result
    return error["extensions"]["fieldErrors"]


def test_register_mails_a_link_that_verifies_the_address_once(client_for):
    dora = register()
    client = client_for(dora)
    assert client.execute(ME) == {"data": {"me": {"email": "dora@example.com", "emailVerified": False}}}
    assert queued_jobs() == [("accounts.email_addresses.verification_mail",
                              {"user_id": dora.pk, "address": "dora@example.com"}, 1)]  # fmt: skip

    token = only_token_in_mail_to("dora@example.com")
    assert verify(token) == {"data": {"verifyEmail": True}}
    assert client.execute(ME) == {"data": {"me": {"email": "dora@example.com", "emailVerified": True}}}
    assert AuditEvent.objects.filter(type=AuditEvent.Type.EMAIL_VERIFIED, user=dora).count() == 1

    assert list(field_errors(verify(token))) == ["token"]


def test_a_registration_that_rolls_back_queues_no_mail(db):
    with patch("accounts.audit.record", side_effect=RuntimeError("the audit table is gone")):
        account = {"username": "dora", "email": "dora@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
        result = GraphQLClient().execute(REGISTER, {"input": account})
    assert error_codes(result) == ["INTERNAL_SERVER_ERROR"]
    assert not User.objects.exists()
    assert queued_jobs() == []


def test_the_link_expires_after_email_verify_timeout(db):
    with time_machine.travel(START, tick=False) as clock:
        dora = register()
        token = only_token_in_mail_to("dora@example.com")
        clock.shift(timedelta(days=3))
        assert list(field_errors(verify(token))) == ["token"]
        clock.shift(timedelta(days=-3, seconds=-1))
        assert verify(token) == {"data": {"verifyEmail": True}}
    dora.refresh_from_db()
    assert dora.email_verified


def test_the_link_is_bound_to_the_address_it_was_sent_to(client_for):
    dora = register()
    token = only_token_in_mail_to("dora@example.com")
    dora.email = "dora@elsewhere.example"  # the admin, a shell
    dora.save()
    assert list(field_errors(verify(token))) == ["token"]
    assert client_for(dora).execute(ME)["data"]["me"] == {"email": "dora@elsewhere.example", "emailVerified": False}


def test_a_new_address_set_any_way_is_unverified(client_for):
    dora = register()
    assert verify(only_token_in_mail_to("dora@example.com")) == {"data": {"verifyEmail": True}}
    User.objects.filter(pk=dora.pk).update(email="dora@elsewhere.example")
    assert client_for(dora).execute(ME)["data"]["me"]["emailVerified"] is False


def test_an_inactive_users_link_is_refused(db):
    dora = register()
    token = only_token_in_mail_to("dora@example.com")
    User.objects.filter(pk=dora.pk).update(is_active=False)
    assert list(field_errors(verify(token))) == ["token"]


def test_a_password_reset_token_does_not_verify_an_address(alice):
    GraphQLClient().execute("mutation($e: String!) { requestPasswordReset(email: $e) }", {"e": "alice@example.com"})
    assert list(field_errors(verify(only_token_in_mail_to("alice@example.com")))) == ["token"]


class TestResend:
    def test_anonymous_is_refused(self, db):
        assert only_error(GraphQLClient().execute(RESEND))["extensions"]["reason"] == "missing_credentials"

    def test_an_unverified_address_gets_a_new_link_and_a_verified_one_false(self, client_for):
        dora = register()
        run_mail_queue()
        client = client_for(dora)
        assert client.execute(RESEND) == {"data": {"resendVerificationEmail": True}}
        run_mail_queue()
        first, second = delivered("dora@example.com")
        assert verify(token_in(second)) == {"data": {"verifyEmail": True}}

        assert client.execute(RESEND) == {"data": {"resendVerificationEmail": False}}
        assert queued_jobs() == []
        assert list(field_errors(verify(token_in(first)))) == ["token"]  # used up with the address's proof

    def test_an_account_without_an_address_gets_false(self, make_user, client_for):
        assert client_for(make_user("noaddress", email="")).execute(RESEND) == {
            "data": {"resendVerificationEmail": False}
        }
        assert queued_jobs() == []

    @override_settings(PASSWORD_RESET_RATE_LIMIT="2/h")
    def test_it_is_rate_limited_per_user(self, alice, client_for):
        client = client_for(alice)
        answers = [client.execute(RESEND) for _ in range(3)]
        assert [error_codes(answer) for answer in answers] == [[], [], ["RATE_LIMITED"]]
        assert len(queued_jobs()) == 2


class TestChangeEmail:
    def change(self, client, new_email, password=PASSWORD):
        return client.execute(CHANGE, {"new": new_email, "pw": password})

    def test_nothing_changes_until_the_link_to_the_new_address_is_followed(self, alice, client_for):
        client = client_for(alice)
        assert self.change(client, "alice@new.example") == {"data": {"changeEmail": True}}
        assert client.execute(ME)["data"]["me"] == {"email": "alice@example.com", "emailVerified": False}

        run_mail_queue()
        (link_mail,) = delivered("alice@new.example")
        (notice,) = delivered("alice@example.com")
        assert "alice@new.example" in notice.body
        assert "http" not in notice.body and "token" not in notice.body  # a notice, not a link
        assert "errors" not in GraphQLClient().login("alice")  # the password and login are untouched

        assert verify(token_in(link_mail)) == {"data": {"verifyEmail": True}}
        assert client.execute(ME)["data"]["me"] == {"email": "alice@new.example", "emailVerified": True}
        assert AuditEvent.objects.filter(type=AuditEvent.Type.EMAIL_CHANGED, user=alice).count() == 1
        assert AuditEvent.objects.filter(type=AuditEvent.Type.EMAIL_VERIFIED).count() == 0

    def test_the_current_password_is_required(self, alice, client_for):
        client = client_for(alice)
        assert list(field_errors(self.change(client, "alice@new.example", "wrong"))) == ["password"]
        assert list(field_errors(self.change(client, "alice@new.example", ""))) == ["password"]
        assert queued_jobs() == []

    @pytest.mark.parametrize(
        "new_email, message",
        [
            ("not an address", "Enter a valid email address."),
            ("", "This field is required."),
            ("BOB@example.com", "A user with that email already exists."),
            ("ALICE@example.com", "This is already your address."),
        ],
    )
    def test_the_new_address_is_checked_like_registers(self, alice, bob, client_for, new_email, message):
        result = self.change(client_for(alice), new_email, "wrong")  # refused before the password counts
        assert field_errors(result) == {"newEmail": [message]}
        assert queued_jobs() == []

    @override_settings(LOGIN_RATE_LIMIT="2/m")
    def test_it_spends_the_password_budget(self, alice, client_for):
        client = client_for(alice)
        self.change(client, "alice@new.example", "wrong")
        self.change(client, "alice@new.example", "wrong")
        assert error_codes(self.change(client, "alice@new.example")) == ["RATE_LIMITED"]

    def test_the_old_addresses_links_die_with_the_change(self, client_for):
        dora = register()
        client = client_for(dora)
        old_link = only_token_in_mail_to("dora@example.com")
        self.change(client, "dora@new.example")
        self.change(client, "dora@newer.example")
        run_mail_queue()
        (to_new,) = delivered("dora@new.example")
        (to_newer,) = delivered("dora@newer.example")
        assert verify(token_in(to_newer)) == {"data": {"verifyEmail": True}}
        assert list(field_errors(verify(token_in(to_new)))) == ["token"]
        assert list(field_errors(verify(old_link))) == ["token"]
        assert client.execute(ME)["data"]["me"] == {"email": "dora@newer.example", "emailVerified": True}

    def test_an_address_taken_since_the_link_was_sent_is_refused(self, alice, client_for, make_user):
        self.change(client_for(alice), "shared@example.com")
        run_mail_queue()
        (link_mail,) = delivered("shared@example.com")
        make_user("eve", email="Shared@example.com")
        assert field_errors(verify(token_in(link_mail))) == {"token": ["A user with that email already exists."]}
        alice.refresh_from_db()
        assert alice.email == "alice@example.com"


class TestWhoReadsEmailVerified:
    QUERY = "query($id: ID!) { node(id: $id) { ... on User { email emailVerified } } }"

    def test_the_user_themself_and_staff(self, alice, make_user, client_for):
        staff = client_for(make_user("admin", is_staff=True))
        for client in (client_for(alice), staff):
            result = client.execute(self.QUERY, {"id": to_global_id("User", alice.pk)})
            assert result == {"data": {"node": {"email": "alice@example.com", "emailVerified": False}}}

    def test_not_a_holder_of_view_user(self, alice, bob, client_for, grant_role):
        viewer = client_for(grant_role(bob, VIEW_USER))
        result = viewer.execute(self.QUERY, {"id": to_global_id("User", alice.pk)})
        assert result["data"]["node"] == {"email": "alice@example.com", "emailVerified": None}
        assert only_error(result)["extensions"]["code"] == "FORBIDDEN"
