"""Mail through a durable queue: django-tasks with its database backend, django-tasks-db.

send_later(builder, **arguments) stores a job in the caller's transaction: if that rolls back the
job never existed, and once it commits the job is in the database, whatever happens to the
process that made it. A worker (`manage.py worker`, accounts.mail_worker) runs the job: `builder(**arguments)`
makes the message, or None when there is nothing to send, and the message leaves through the
transport EMAIL_URL names. Builders make their links' tokens as they run, in the worker, so no
secret is stored in a job, its arguments or the error of a failed attempt.

django-tasks-db marks a job that raised as failed and never runs it again. A mail server that is
down must only delay mail, so deliver() queues the next attempt itself, with a delay that doubles
from FIRST_RETRY_DELAY up to MAX_RETRY_DELAY, before failing the attempt (whose error is then
logged and kept on its row); after ATTEMPTS attempts, about three days, it gives up.
"""

import smtplib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

FIRST_RETRY_DELAY = 30  # seconds
MAX_RETRY_DELAY = 3600
ATTEMPTS = 80


def retry_delay(attempt):
    """How long after failed attempt number `attempt` (from 1) the next one runs."""
    return timedelta(seconds=min(FIRST_RETRY_DELAY * 2 ** (attempt - 1), MAX_RETRY_DELAY))


def send_later(builder, **arguments):
    """Queue the mail `builder(**arguments)` will make; arguments must be JSON (ids, addresses)."""
    with transaction.atomic():
        deliver.enqueue(f"{builder.__module__}.{builder.__qualname__}", arguments, 1)


@task()
def deliver(builder, arguments, attempt):
    message = import_string(builder)(**arguments)
    if message is None:
        return
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        if attempt < ATTEMPTS:
            next_attempt = deliver.using(run_after=timezone.now() + retry_delay(attempt))
            next_attempt.enqueue(builder, arguments, attempt + 1)
        raise


def waiting_count():
    """Mail jobs not sent yet: ready (now or after a retry delay) or being sent."""
    return DBTaskResult.objects.filter(status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING]).count()


def failed_count():
    """Failed attempts still in the table (each failed attempt queued the next, until the last)."""
    return DBTaskResult.objects.failed().count()
