import logging

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class ProjectConfig(AppConfig):
    """What every entry point (gunicorn, an ASGI server, runserver, manage.py) sets up once."""

    name = "project"

    def ready(self):
        # Python's warnings become log lines like any other (JSON ones with LOG_FORMAT=json).
        logging.captureWarnings(True)
        if settings.TRACING_ENABLED:
            from project import tracing

            tracing.start()


class AdminConfig(DjangoAdminConfig):
    """Django's admin, on a site whose login has tokenAuth's protections (accounts/admin_site.py)."""

    default_site = "accounts.admin_site.AdminSite"
