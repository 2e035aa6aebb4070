from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_tasks_db.management.commands.db_worker import valid_interval

from accounts import mail_worker as worker
from accounts.checks import NO_TRANSPORT


class Command(BaseCommand):
    help = "Send queued mail (django-tasks-db's worker; failed sends are retried later and later)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=valid_interval, default=1.0, help="seconds between looks at an empty queue (default 1)"
        )
        parser.add_argument("--batch", action="store_true", help="send what is due, then exit")

    def handle(self, *, interval, batch, **options):
        if not settings.EMAIL_TRANSPORT_CONFIGURED:
            raise CommandError(NO_TRANSPORT)
        queue_worker = worker.new_worker(interval)
        queue_worker.configure_signals()
        self.stdout.write(f"Worker {queue_worker.worker_id} is sending queued mail.")
        worker.run(queue_worker, once=batch)
