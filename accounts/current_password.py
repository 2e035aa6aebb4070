"""Mutations that touch credentials ask for the viewer's current password again.

An access token lives minutes and can leak (a log, a browser extension, a shared machine); the
password is what proves the owner is there. Callers first spend the viewer's password budget
(ratelimit.check_viewer_password), then check everything else, and only then the password: so an
answer tells a right password from a wrong one only when nothing else was wrong.
"""

from accounts.exceptions import ValidationFailed

MISSING = "Enter your current password."
WRONG = "The password is not correct."
# An account made by signing in with an OpenID provider (accounts.oidc) has none until it is reset.
NONE_SET = "This account has no password yet: set one with requestPasswordReset."


def require_current_password(user, password, field="password"):
    """ValidationFailed on `field` unless `password` is the user's current password."""
    if not user.has_usable_password():
        raise ValidationFailed({field: [NONE_SET]})
    if not password:
        raise ValidationFailed({field: [MISSING]})
    if not user.check_password(password):
        raise ValidationFailed({field: [WRONG]})
