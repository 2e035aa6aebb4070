from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "outbox"

    def ready(self):
        from outbox import checks  # noqa: F401 (registers the system check)
