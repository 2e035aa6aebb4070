"""Running the mail queue inside a test, and reading what it sent."""

import re
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from django.core import mail
from django_tasks_db.models import DBTaskResult

from accounts import mail_worker as worker


def run_mail_queue():
    """Run every job that is due, as `manage.py worker --batch` does, in this process.

    django-tasks-db's worker closes "old" database connections between jobs, which in a test
    would close the connection holding the test's transaction.
    """
    with patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        worker.run(worker.new_worker(interval=0), once=True)


def queued_jobs():
    """(builder, arguments, attempt) of every job waiting in the queue, oldest first."""
    jobs = DBTaskResult.objects.filter(status="READY").order_by("enqueued_at")
    return [tuple(job.args_kwargs["args"]) for job in jobs]


def delivered(to=None):
    """Mails sent so far (Django's test outbox), to one address or all."""
    return [message for message in mail.outbox if to is None or message.to == [to]]


LINK = re.compile(r"https?://\S+")


def token_in(message):
    """The token of the one link in a mail's text; the HTML must hold the same link."""
    (link,) = LINK.findall(message.body)
    html, _ = message.alternatives[0]
    assert f'href="{link}"' in html
    return parse_qs(urlsplit(link).query)["token"][0]
