from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from tasks import events  # noqa: F401 (publishes every change of a task, tasks/events.py)
