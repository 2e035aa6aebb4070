from django.apps import AppConfig
from django.conf import settings
from django.core.signals import setting_changed


class SchemaConfig(AppConfig):
    name = "schema"

    def ready(self):
        # Every entry point (manage.py check, runserver, gunicorn, the test suite) comes here.
        from schema.codenames import check_keys

        check_keys(settings.GRAPHQL_FIELD_CODENAMES)
        setting_changed.connect(check_overridden_keys)


def check_overridden_keys(setting, value, enter, **kwargs):
    """override_settings in a test is held to the same rule as the environment."""
    if setting == "GRAPHQL_FIELD_CODENAMES" and enter:
        from schema.codenames import check_keys

        check_keys(value)
