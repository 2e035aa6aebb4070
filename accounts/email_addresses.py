"""Proving an email address (docs/recovery.md): the link register sends, resendVerificationEmail,
changeEmail, and verifyEmail, which follows either kind of link.

An address link proves the address it was mailed to (LinkToken.sent_to). Following it makes that
address the user's and marks it verified: for the link register sends it already is the user's
(EMAIL_VERIFIED); for the one changeEmail sends it replaces the old one only now (EMAIL_CHANGED).
Every link is bound to the address the account had when it was made (accounts.link_tokens), so
once the address changes, by a link, the admin or a shell, older links are dead.
"""

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts import audit, link_tokens, mails, ratelimit
from accounts.current_password import require_current_password
from accounts.email_rules import EMAIL_TAKEN, email_errors
from accounts.exceptions import ValidationFailed
from accounts.mail_queue import send_later
from accounts.models import User

Purpose = link_tokens.Purpose
BAD_TOKEN = "This link is not valid: it was used, it expired, or the address changed since. Ask for a new one."
SAME_ADDRESS = "This is already your address."


def send_verification(user):
    """Queue the link that proves the user's present address (in the caller's transaction)."""
    send_later(verification_mail, user_id=user.pk, address=user.email)


def verification_mail(user_id, address):
    """Run by the worker: the link for `address`, or None if it is no longer the user's or is verified."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.email != address or user.email_verified:
        return None
    return _address_link_mail("verify_email", user, address)


def _address_link_mail(name, user, address):
    token = link_tokens.issue(user, Purpose.EMAIL_ADDRESS, sent_to=address)
    context = {
        "user": user,
        "address": address,
        "link": mails.link(settings.EMAIL_VERIFY_URL, token),
        "valid_for": mails.valid_for(link_tokens.lifetime(Purpose.EMAIL_ADDRESS)),
    }
    return mails.message(name, address, context)


def resend_verification(user, meta):
    """False when there is nothing to prove (verified, or no address); else a new link is queued."""
    if user.email_verified or not user.email:
        return False
    ratelimit.check_mail_from_viewer(user, user.email, meta)
    send_verification(user)
    return True


def change_email(user, new_email, password, meta):
    """Mail a link to `new_email` that makes it the user's address when followed, and a notice to
    the present address. Nothing changes before the link is followed.

    Like createApiKey: the viewer's password budget first, then the new address (checked as
    register checks it), and only then the password.
    """
    ratelimit.check_viewer_password(user, meta)
    new_email = User.objects.normalize_email(new_email.strip())
    errors = [SAME_ADDRESS] if user.email and new_email.lower() == user.email.lower() else email_errors(new_email)
    if errors:
        raise ValidationFailed({"new_email": errors})
    require_current_password(user, password)
    ratelimit.check_mail_from_viewer(user, new_email, meta)
    with transaction.atomic():
        send_later(change_mail, user_id=user.pk, new_address=new_email, present_address=user.email)
        if user.email:
            send_later(change_notice, user_id=user.pk, old_address=user.email, new_address=new_email)


def change_mail(user_id, new_address, present_address):
    """Run by the worker: the link for `new_address`, or None if the address changed since."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.email != present_address:
        return None
    return _address_link_mail("change_email", user, new_address)


def change_notice(user_id, old_address, new_address):
    """Run by the worker: tells the present address that someone asked to replace it."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return None
    return mails.message("email_change_notice", old_address, {"user": user, "new_address": new_address})


def verify_email(secret, meta):
    """Follow an address link: its address becomes the user's, verified."""
    ratelimit.check_link_token(meta)
    token = link_tokens.usable(secret, Purpose.EMAIL_ADDRESS)
    if token is None:
        raise ValidationFailed({"token": [BAD_TOKEN]})
    with transaction.atomic():
        user = link_tokens.use(token)
        if user is None:
            raise ValidationFailed({"token": [BAD_TOKEN]})
        changed = user.email != token.sent_to
        user.email = user.verified_email = token.sent_to
        try:
            with transaction.atomic():
                user.save(update_fields=["email", "verified_email"])
        except IntegrityError:
            # Someone registered the new address since the link was sent.
            raise ValidationFailed({"token": [EMAIL_TAKEN]}) from None
        audit.record(audit.EventType.EMAIL_CHANGED if changed else audit.EventType.EMAIL_VERIFIED, meta, user=user)
    return True
