from pathlib import Path

from django.conf import settings

SCHEMA_FILE = Path(settings.BASE_DIR) / "schema.graphql"


def exported_sdl():
    from schema.schema import schema

    return schema.as_str() + "\n"
