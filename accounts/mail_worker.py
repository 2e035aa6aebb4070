"""The queue's worker: django-tasks-db's own, run in rounds, taking back the jobs of dead workers.

django-tasks-db claims a job by marking it RUNNING, and a worker that dies in the middle of one
(SIGKILL, a lost machine) leaves it so for ever. Before each round the worker runs such jobs
again once their claim is older than WORKER_CLAIM_TIMEOUT, far longer than a send can take: a mail
may then arrive twice (when the worker died after the mail server took it), never not at all.
"""

import logging
import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("accounts.mail_worker")


def take_back_abandoned_jobs():
    """Make the jobs whose worker must have died ready again; returns how many."""
    claimed_before = timezone.now() - timedelta(seconds=settings.WORKER_CLAIM_TIMEOUT)
    abandoned = DBTaskResult.objects.running().filter(started_at__lt=claimed_before)
    count = abandoned.update(status=TaskResultStatus.READY)
    if count:
        logger.warning("Took back %d job(s) claimed by a worker that did not finish them.", count)
    return count


def new_worker(interval):
    """django-tasks-db's worker in batch mode: each run() does every job that is ready, then returns."""
    return Worker(
        queue_names=["*"],
        excluded_queue_names=[],
        interval=interval,
        batch=True,
        backend_name=DEFAULT_TASK_BACKEND_ALIAS,
        startup_delay=False,
        max_tasks=None,
        worker_id=f"{socket.gethostname()}:{os.getpid()}"[:64],
    )


def run(worker, once=False):
    """Run the queue in rounds until the worker is stopped (by SIGTERM or SIGINT once it has
    configured its signals: a job that has started is finished first), or after one round."""
    while True:
        take_back_abandoned_jobs()
        worker.run()
        if once or not worker.running:
            return
        time.sleep(worker.interval)
