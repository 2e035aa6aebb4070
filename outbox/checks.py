"""The system check (also run when a server starts) that warns when mail has no way out."""

from django.conf import settings
from django.core import checks

MAIL_TRANSPORT = "mail_transport"
NO_TRANSPORT = (
    "EMAIL_URL is not set: mail (password resets, address links) waits in the queue, and the worker "
    "will not start, until it is."
)


@checks.register(MAIL_TRANSPORT)
def mail_has_a_transport(app_configs, **kwargs):
    if settings.EMAIL_TRANSPORT_CONFIGURED:
        return []
    return [
        checks.Warning(
            NO_TRANSPORT,
            hint="Set EMAIL_URL, e.g. smtp://user:password@mail.example.com:587?tls=1, and run `manage.py worker`.",
            id="outbox.W001",
        )
    ]
