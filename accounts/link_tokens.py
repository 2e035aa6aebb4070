"""Single-use secrets mailed in links: password reset, and the proof of an email address.

A token is 256 random bits that only the mail holds; the database keeps a digest, so a copy of
the table opens no link. Each token is bound to the state of the account when it was made, and
dies when that state changes:
- a reset token, to the password hash (LoginSession.password_digest_of, the rule that also ends
  sessions) and the address: a new password set anywhere (the admin, a shell, changePassword,
  another reset) or a new address ends it;
- an address token, to the address the account had: once the address changes, every older
  link, to it or to another address, is dead.
A token also dies when used, with the account's other tokens of its kind to the same address
(a conditional UPDATE on the locked account: of two concurrent uses, and of two tokens of one
account used at once, one wins), and after its timeout, read on each use so that lowering the
setting also ends older tokens.

Django's PasswordResetTokenGenerator is stateless and would need no table, but nothing makes
its tokens single-use: they die on the next login (it hashes last_login), and this project's
logins are JWT sessions that a stolen link outlives. Stored tokens are single-use by
construction and can be made and checked for two purposes with one rule.
"""

import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.digests import digest
from accounts.models import LinkToken, LoginSession, User

Purpose = LinkToken.Purpose
SECRET_BYTES = 32
SECRET_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)


def lifetime(purpose):
    seconds = settings.PASSWORD_RESET_TIMEOUT if purpose == Purpose.PASSWORD_RESET else settings.EMAIL_VERIFY_TIMEOUT
    return timedelta(seconds=seconds)


def state_of(user, purpose):
    """What must not change while a token of `purpose` lives."""
    if purpose == Purpose.PASSWORD_RESET:
        return digest(f"{LoginSession.password_digest_of(user)} {user.email}")
    return digest(user.email)


def issue(user, purpose, sent_to):
    """A new token's secret, for a link mailed to `sent_to`. The user's used and expired tokens
    of that purpose are deleted on the way, so the table holds little more than live links."""
    now = timezone.now()
    spent = Q(used_at__isnull=False) | Q(created_at__lte=now - lifetime(purpose))
    LinkToken.objects.filter(spent, user=user, purpose=purpose).delete()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    LinkToken.objects.create(
        user=user, purpose=purpose, digest=digest(secret), state=state_of(user, purpose), sent_to=sent_to
    )
    return secret


def _is_usable(token, user):
    return (
        token.used_at is None
        and token.created_at > timezone.now() - lifetime(token.purpose)
        and user.is_active
        and hmac.compare_digest(token.state, state_of(user, token.purpose))
    )


def usable(secret, purpose):
    """The live token of `purpose` that `secret` opens (its user loaded), or None."""
    if not isinstance(secret, str) or not SECRET_PATTERN.fullmatch(secret):
        return None
    token = LinkToken.objects.select_related("user").filter(digest=digest(secret), purpose=purpose).first()
    return token if token is not None and _is_usable(token, token.user) else None


def use(token):
    """Use the token up, and its siblings (the same kind of link to the same address): the user,
    locked until the caller's transaction ends (which must be open), or None when the token
    died since `usable` returned it."""
    if not transaction.get_connection().in_atomic_block:
        raise TransactionManagementError("Use a token inside the transaction that acts on it.")
    user = User.objects.select_for_update().get(pk=token.user_id)
    now = timezone.now()
    if not _is_usable(token, user):
        return None
    if not LinkToken.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=now):
        return None
    siblings = LinkToken.objects.filter(user=user, purpose=token.purpose, sent_to=token.sent_to, used_at__isnull=True)
    siblings.update(used_at=now)
    return user
