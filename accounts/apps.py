from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts import (
            checks,  # noqa: F401 (registers the system checks)
            mail_queue,
        )
        from project import metrics

        metrics.watch_mail_queue(waiting=mail_queue.waiting_count, failed=mail_queue.failed_count)
