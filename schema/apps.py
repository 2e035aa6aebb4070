from django.apps import AppConfig


class SchemaConfig(AppConfig):
    name = "schema"
