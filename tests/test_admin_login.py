"""The admin's login form is another door into an account: it has tokenAuth's protections.

The tests drive the real form as a browser would: GET the page, read the CSRF token from it,
POST the fields, follow the session cookie.
"""

import re
from datetime import UTC, datetime

import pyotp
import pytest
import time_machine
from django.test import Client

from accounts.models import AuditEvent, TotpDevice
from tests.graphql_util import LOGIN, PASSWORD, GraphQLClient, error_codes

LOGIN_PAGE = "/admin/login/?next=/admin/"
PASSWORD_CHANGE_PAGE = "/admin/password_change/"
# Ten seconds into a 30-second step: a code read now is still current when it is sent.
START = datetime(2026, 3, 2, 9, 0, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    """One frozen moment: one rate-limit window, one TOTP step."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def staff(make_user):
    return make_user("staff", is_staff=True, is_superuser=True)


@pytest.fixture
def totp_secret(staff):
    secret = pyotp.random_base32()
    TotpDevice.objects.create(user=staff, secret=secret, confirmed_at=START)
    return secret


class Browser:
    def __init__(self, address="192.0.2.1"):
        self.http = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)

    def submit(self, page, **fields):
        form = self.http.get(page)
        assert form.status_code == 200
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content).group(1).decode()
        return self.http.post(page, {"csrfmiddlewaretoken": token, **fields})

    def log_in(self, username, password, otp=None):
        fields = {"username": username, "password": password, "next": "/admin/"}
        if otp is not None:
            fields["otp"] = otp
        return self.submit(LOGIN_PAGE, **fields)

    def is_in_the_admin(self):
        return self.http.get("/admin/").status_code == 200


def refusal(response):
    assert response.status_code == 200, "a refused login shows the form again"
    return " ".join(response.context["form"].non_field_errors())


def events(event_type, **fields):
    return AuditEvent.objects.filter(type=event_type, **fields)


def test_the_login_form_asks_for_a_one_time_code(staff):
    page = Browser().http.get(LOGIN_PAGE)
    assert b'name="otp"' in page.content


def test_staff_log_in_through_the_form_and_the_login_is_audited(staff):
    browser = Browser()
    response = browser.log_in("staff", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert browser.is_in_the_admin()
    assert events("LOGIN_SUCCESS", user=staff, ip="192.0.2.1").count() == 1


def test_with_totp_on_the_password_alone_does_not_open_the_admin(staff, totp_secret):
    browser = Browser()
    assert "one-time code is required" in refusal(browser.log_in("staff", PASSWORD))
    assert not browser.is_in_the_admin()
    assert not events("LOGIN_SUCCESS").exists()


def test_with_totp_on_a_current_code_opens_the_admin_once(staff, totp_secret):
    code = pyotp.TOTP(totp_secret).now()
    browser = Browser()
    assert browser.log_in("staff", PASSWORD, otp=code).status_code == 302
    assert browser.is_in_the_admin()

    replay = Browser("192.0.2.2")
    assert "not valid or was already used" in refusal(replay.log_in("staff", PASSWORD, otp=code))
    assert not replay.is_in_the_admin()
    assert events("OTP_FAILURE", user=staff).count() == 1


def test_a_wrong_code_is_refused(staff, totp_secret):
    code = pyotp.TOTP(totp_secret).now()
    wrong = "000000" if code != "000000" else "111111"
    browser = Browser()
    assert "not valid or was already used" in refusal(browser.log_in("staff", PASSWORD, otp=wrong))
    assert not browser.is_in_the_admin()


def test_a_code_is_only_asked_for_after_the_right_password(staff, totp_secret):
    message = refusal(Browser().log_in("staff", "not the password"))
    assert "one-time code" not in message
    assert "correct username and password" in message


@pytest.mark.parametrize(
    ("username", "password"),
    [("staff", "not the password"), ("nobody", PASSWORD), ("alice", PASSWORD)],
    ids=["wrong password", "unknown user", "not staff"],
)
def test_refused_logins_are_audited_and_look_alike(staff, alice, username, password):
    browser = Browser()
    message = refusal(browser.log_in(username, password))
    assert message.startswith("Please enter the correct username and password for a staff account.")
    assert not browser.is_in_the_admin()
    assert events("LOGIN_FAILURE", username=username, success=False).count() == 1
    assert not events("LOGIN_SUCCESS").exists()


def test_five_wrong_passwords_a_minute_then_even_the_right_one_is_refused(staff):
    browser = Browser()
    for _ in range(5):
        assert "correct username and password" in refusal(browser.log_in("staff", "not the password"))
    message = refusal(browser.log_in("staff", PASSWORD))
    assert re.search(r"Too many attempts\. Try again in \d+ seconds\.", message)
    assert not browser.is_in_the_admin()
    assert events("LOGIN_FAILURE").count() == 5 and events("RATE_LIMITED").count() == 1


def token_auth(username, password, address):
    return GraphQLClient().execute(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_admin_and_token_auth_share_the_per_username_count(staff):
    for number in range(3):
        assert error_codes(token_auth("staff", "wrong", f"198.51.100.{number}")) == ["INVALID_CREDENTIALS"]
    for number in range(2):
        refusal(Browser(f"203.0.113.{number}").log_in("STAFF", "wrong"))  # any spelling, one count
    assert "Too many attempts" in refusal(Browser("203.0.113.99").log_in("staff", PASSWORD))
    assert error_codes(token_auth("staff", PASSWORD, "198.51.100.99")) == ["RATE_LIMITED"]


def test_the_admin_and_token_auth_share_the_per_address_count(staff):
    for number in range(5):
        refusal(Browser("192.0.2.7").log_in(f"guess{number}", "wrong"))
    assert error_codes(token_auth("staff", PASSWORD, "192.0.2.7")) == ["RATE_LIMITED"]


@pytest.fixture
def in_the_admin(staff):
    browser = Browser()
    assert browser.log_in("staff", PASSWORD).status_code == 302  # the first attempt of this window
    return browser


def change_own_password(browser, old_password, new_password="a brand new passphrase"):
    return browser.submit(
        PASSWORD_CHANGE_PAGE, old_password=old_password, new_password1=new_password, new_password2=new_password
    )


def test_the_old_password_in_the_admin_is_checked_under_the_login_limit(in_the_admin, staff):
    for _ in range(4):
        response = change_own_password(in_the_admin, "a guess")
        assert "Your old password was entered incorrectly" in str(response.context["form"].errors)
    response = change_own_password(in_the_admin, PASSWORD)
    assert "Too many attempts" in str(response.context["form"].errors)
    staff.refresh_from_db()
    assert staff.check_password(PASSWORD)


def test_changing_the_own_password_in_the_admin_is_audited_and_ends_token_sessions(in_the_admin, staff):
    tokens = GraphQLClient().login("staff")

    assert change_own_password(in_the_admin, PASSWORD).status_code == 302

    assert events("PASSWORD_CHANGED", user=staff).count() == 1
    assert in_the_admin.is_in_the_admin(), "the admin session itself goes on"
    me = GraphQLClient().authenticate(tokens["access"]).execute("{ me { username } }")
    assert me["errors"][0]["extensions"]["reason"] == "token_revoked"


def test_setting_someone_elses_password_in_the_admin_is_audited(in_the_admin, alice):
    response = in_the_admin.submit(
        f"/admin/accounts/user/{alice.pk}/password/",
        password1="a brand new passphrase",
        password2="a brand new passphrase",
        usable_password="true",
    )
    assert response.status_code == 302
    assert events("PASSWORD_CHANGED", user=alice).count() == 1
