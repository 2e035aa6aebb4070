"""Logging in with a password, and changing it."""

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import audit, ratelimit, sessions, totp
from accounts.exceptions import InvalidCredentials, ValidationFailed


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
        audit.record(audit.EventType.LOGIN_FAILURE, meta, username=username, success=False)
        raise InvalidCredentials()
    totp.check_second_factor(user, otp, meta)
    return user


def login(username, password, meta, otp=None):
    """tokenAuth: start a session for valid credentials."""
    user = verify_login(username, password, meta, otp)
    update_last_login(None, user)
    pair = sessions.start_session(user)
    audit.record(audit.EventType.LOGIN_SUCCESS, meta, user=user)
    return pair


def check_current_password(user, password, meta):
    """Whether `password` is the user's, asked under the login limit: whoever holds a stolen
    session must not be able to guess the password through this faster than by logging in."""
    ratelimit.check_login(user.get_username(), meta)
    return user.check_password(password)


def change_password(user, old_password, new_password, meta):
    """Set a new password, end every session of the user, and start a fresh one."""
    if not check_current_password(user, old_password, meta):
        raise ValidationFailed({"old_password": ["Your old password was entered incorrectly."]})
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationFailed({"new_password": list(error.messages)}) from None
    with transaction.atomic():
        # The new password alone would end them; revoking first also records when and how.
        sessions.revoke_all_sessions(user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        pair = sessions.start_session(user)
    audit.record(audit.EventType.PASSWORD_CHANGED, meta, user=user)
    return pair
