"""Passwords once logged in: checking the current one, and changing it. Logging in is accounts.login."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import audit, ratelimit, sessions
from accounts.current_password import require_current_password
from accounts.exceptions import ValidationFailed


def check_current_password(user, password, meta):
    """Whether `password` is the user's (the admin's password-change form), from the user's
    password budget: a stolen admin session guesses no faster here than at tokenAuth."""
    ratelimit.check_viewer_password(user, meta)
    return user.check_password(password)


def change_password(user, old_password, new_password, meta):
    """Set a new password, end every session of the user, and start a fresh one.

    The old password spends the viewer's password budget (a stolen access token must not
    guess it here faster than at tokenAuth), and is checked only once the new one passed
    the validators, so a weak new password gets the same answer with a right or wrong old one.
    """
    ratelimit.check_viewer_password(user, meta)
    try:
        password_validation.validate_password(new_password, user)
    except ValidationError as error:
        raise ValidationFailed({"new_password": list(error.messages)}) from None
    require_current_password(user, old_password, field="old_password")
    with transaction.atomic():
        # The new password alone would end them; revoking first also records when and how.
        sessions.revoke_all_sessions(user)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        pair = sessions.start_session(user)
    audit.record(audit.EventType.PASSWORD_CHANGED, meta, user=user)
    return pair
