"""The mails the accounts send, from templates an operator can replace.

Each mail is three templates under accounts/mail/: `<name>_subject.txt`, `<name>.txt` (the plain
text) and `<name>.html`. Folders in TEMPLATES_DIRS are searched first, so a file at
`<folder>/accounts/mail/password_reset.html` replaces the HTML of the reset mail.
"""

from urllib.parse import quote

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.timesince import timeuntil


def link(template, token):
    """`template` (PASSWORD_RESET_URL, EMAIL_VERIFY_URL) with the token, URL-encoded, for `{token}`."""
    return template.replace("{token}", quote(token, safe=""))


def valid_for(lifetime):
    """A lifetime as the mail says it: "1 hour", "3 days"."""
    now = timezone.now()
    return timeuntil(now + lifetime, now)


def message(name, to, context):
    """The mail `name` to the address `to`, from DEFAULT_FROM_EMAIL."""
    subject = " ".join(render_to_string(f"accounts/mail/{name}_subject.txt", context).split())
    mail = EmailMultiAlternatives(subject, render_to_string(f"accounts/mail/{name}.txt", context), to=[to])
    mail.attach_alternative(render_to_string(f"accounts/mail/{name}.html", context), "text/html")
    return mail
