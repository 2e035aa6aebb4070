"""Validation and creation of new users (docs/security.md)."""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import audit, email_addresses, ratelimit, usernames
from accounts.email_rules import email_errors
from accounts.exceptions import ValidationFailed
from accounts.models import USERNAME_TAKEN, User


def _username_errors(username):
    field = User._meta.get_field("username")
    try:
        field.clean(username, None)
    except ValidationError as error:
        return list(error.messages)
    # "Alice", "alice" and "ａｌｉｃｅ" would be indistinguishable to people.
    if User.objects.with_username(username).exists():
        return [USERNAME_TAKEN]
    return []


def _password_errors(password, candidate):
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as error:
        return list(error.messages)
    return []


def register(username, email, password, password_confirm, meta):
    ratelimit.check_register(meta)
    username = usernames.normalized(username)
    email = User.objects.normalize_email(email.strip())
    candidate = User(username=username, email=email)
    field_errors = {
        "username": _username_errors(username),
        "email": email_errors(email),
        "password": _password_errors(password, candidate),
        "password_confirm": [] if password == password_confirm else ["The two passwords do not match."],
    }
    field_errors = {name: messages for name, messages in field_errors.items() if messages}
    if field_errors:
        raise ValidationFailed(field_errors)
    candidate.set_password(password)
    with transaction.atomic():
        try:
            with transaction.atomic():
                candidate.save()
        except IntegrityError:
            # Lost a race with a concurrent registration of the same name or email.
            raise ValidationFailed(
                {
                    name: messages
                    for name, messages in {"username": _username_errors(username), "email": email_errors(email)}.items()
                    if messages
                }
                or {"username": [USERNAME_TAKEN]}
            ) from None
        audit.record(audit.EventType.REGISTER, meta, user=candidate)
        email_addresses.send_verification(candidate)
    return candidate
