"""Password reset (docs/recovery.md): a link by mail, then a new password without the old one.

requestPasswordReset does the same work for every address: two rate-limit counts and one queued
job, whether or not anyone has the address. The worker looks the address up (reset_mail) and
sends nothing when no active user has it, so neither the answer nor its timing tells whether an
account exists (bench/password_reset.py measures it).

resetPassword is not charged to the user's password budget (accounts.ratelimit): it checks no
password, the token is the proof, and 256 random bits are not guessed; it is limited per client
IP like every public mutation.
"""

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import apikeys, audit, link_tokens, mails, ratelimit, sessions
from accounts.email_rules import address_errors
from accounts.exceptions import ValidationFailed
from accounts.mail_queue import send_later
from accounts.models import User

BAD_TOKEN = "This link is not valid: it was used, it expired, or a newer one replaced it. Ask for a new one."


def request_reset(address, meta):
    """Queue the reset mail for `address` unless a limit says otherwise; the caller answers true."""
    address = User.objects.normalize_email(address.strip())
    if ratelimit.allows_password_reset(address, meta) and not address_errors(address):
        send_later(reset_mail, address=address)


def reset_mail(address):
    """Run by the worker: the reset mail for the active user with `address`, or None."""
    user = User.objects.filter(email__iexact=address, is_active=True).first()
    if user is None:
        return None
    token = link_tokens.issue(user, link_tokens.Purpose.PASSWORD_RESET, sent_to=user.email)
    context = {
        "user": user,
        "link": mails.link(settings.PASSWORD_RESET_URL, token),
        "valid_for": mails.valid_for(link_tokens.lifetime(link_tokens.Purpose.PASSWORD_RESET)),
    }
    return mails.message("password_reset", user.email, context)


def reset_password(secret, new_password, meta):
    """Set the password of the user a reset link was mailed to, and end everything the old one
    started: every session (as any new password does, LoginSession.check_usable) and every API
    key. The link reached the address, which is therefore verified. It does not log in."""
    ratelimit.check_link_token(meta)
    token = link_tokens.usable(secret, link_tokens.Purpose.PASSWORD_RESET)
    if token is None:
        raise ValidationFailed({"token": [BAD_TOKEN]})
    try:
        password_validation.validate_password(new_password, token.user)
    except ValidationError as error:
        # Before the token is used: a weak password leaves the link working.
        raise ValidationFailed({"new_password": list(error.messages)}) from None
    with transaction.atomic():
        user = link_tokens.use(token)
        if user is None:
            raise ValidationFailed({"token": [BAD_TOKEN]})
        sessions.revoke_all_sessions(user)  # the new password alone would end them; this records when
        user.set_password(new_password)
        user.verified_email = user.email
        user.save(update_fields=["password", "verified_email"])
        apikeys.revoke_all_of(user, meta)
        audit.record(audit.EventType.PASSWORD_RESET, meta, user=user)
