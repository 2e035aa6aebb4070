from django.apps import AppConfig
from django.conf import settings
from django.core.signals import setting_changed


class SchemaConfig(AppConfig):
    name = "schema"

    def ready(self):
        # Every entry point (manage.py check, runserver, gunicorn, the test suite) comes here.
        from schema.codenames import check_keys
        from schema.manifests import trusted_documents

        check_keys(settings.GRAPHQL_FIELD_CODENAMES)
        trusted_documents()  # reads and validates the manifests: a bad one stops the server here
        setting_changed.connect(check_overridden_settings)


def check_overridden_settings(setting, value, enter, **kwargs):
    """override_settings in a test is held to the same rules as the environment."""
    if setting == "GRAPHQL_FIELD_CODENAMES" and enter:
        from schema.codenames import check_keys

        check_keys(value)
    elif setting == "GRAPHQL_TRUSTED_DOCUMENTS" and enter:
        from schema.manifests import trusted_documents

        trusted_documents()
