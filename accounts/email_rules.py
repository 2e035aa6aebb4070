"""What makes an email address acceptable for an account (register, changeEmail, password reset)."""

from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.text import is_storable

EMAIL_TAKEN = "A user with that email already exists."


def address_errors(email):
    """What is wrong with `email` as an account's address, taken or not."""
    if not email:
        return ["This field is required."]
    if not is_storable(email):
        return ["Enter a valid email address."]
    try:
        # The field's own validators: a valid address, and one its column can hold.
        User._meta.get_field("email").run_validators(email)
    except ValidationError as error:
        return list(error.messages)
    return []


def email_errors(email):
    """register's and changeEmail's check of a new address: valid, and nobody's ignoring case."""
    errors = address_errors(email)
    if not errors and User.objects.filter(email__iexact=email).exists():
        return [EMAIL_TAKEN]
    return errors
