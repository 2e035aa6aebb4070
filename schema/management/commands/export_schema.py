from django.core.management.base import BaseCommand

from schema.sdl import SCHEMA_FILE, exported_sdl


class Command(BaseCommand):
    help = "Write the live GraphQL schema to schema.graphql (the SDL that codegen clients use)."

    def handle(self, *args, **options):
        SCHEMA_FILE.write_text(exported_sdl())
        self.stdout.write(f"Wrote {SCHEMA_FILE}")
