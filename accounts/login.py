"""Logging in with a username and password (then the second factor): tokenAuth, and the admin's login form."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import update_last_login

from accounts import audit, ratelimit, sessions, totp
from accounts.exceptions import InvalidCredentials, OtpInvalid, OtpRequired, RateLimited
from accounts.text import is_storable
from project import metrics


def verify_login(username, password, meta, otp=None):
    """The user whose credentials these are, checked as every way into an account checks them
    (tokenAuth and the admin's login form); one error for every kind of failure.

    Attempts are counted per client IP and per username before anything else. Django's
    ModelBackend hashes the password even for unknown usernames, so the answer takes about as
    long whether the account exists or not, and it refuses inactive users. It also upgrades an
    older hash (PBKDF2) to Argon2. Only after the password is accepted is the second factor
    asked for, so OTP_REQUIRED never tells a stranger that an account exists.
    """
    ratelimit.check_login(username, meta)
    user = authenticate(username=username, password=password)
    if user is None:
        audit.record(
            audit.EventType.LOGIN_FAILURE, meta, user=_account_named(username), username=username, success=False
        )
        raise InvalidCredentials()
    totp.check_second_factor(user, otp, meta)
    return user


# What metrics.LOGINS counts for each way a login is refused.
LOGIN_FAILURE_RESULTS = {
    InvalidCredentials: "invalid_credentials",
    OtpRequired: "otp_required",
    OtpInvalid: "otp_invalid",
    RateLimited: "rate_limited",
}


@metrics.counting(metrics.LOGINS, lambda error: LOGIN_FAILURE_RESULTS.get(type(error)))
def log_in(username, password, meta, otp=None):
    """tokenAuth: start a session for valid credentials."""
    user = verify_login(username, password, meta, otp)
    update_last_login(None, user)
    pair = sessions.start_session(user)
    audit.record(audit.EventType.LOGIN_SUCCESS, meta, user=user)
    return pair


def _account_named(username):
    """The account a failed login was aimed at, or None, so that the audit log links the attempt
    to it. Found as ModelBackend finds it; one indexed query whether or not the account exists,
    so the answer's timing still does not tell."""
    if not is_storable(username):
        return None
    user_model = get_user_model()
    try:
        return user_model._default_manager.get_by_natural_key(username)
    except user_model.DoesNotExist:
        return None
