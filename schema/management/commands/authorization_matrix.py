from django.conf import settings
from django.core.management.base import BaseCommand

from schema.matrix import MATRIX_FILE, authorization_matrix
from schema.schema import schema


class Command(BaseCommand):
    help = (
        "Print the authorization matrix (every field, its rule and the configured codenames) as Markdown; "
        "with --write, rewrite docs/authorization.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help=f"Write it to {MATRIX_FILE} instead.")

    def handle(self, *args, write=False, **options):
        matrix = authorization_matrix(schema, settings.GRAPHQL_FIELD_CODENAMES)
        if write:
            MATRIX_FILE.write_text(matrix)
            self.stderr.write(f"Wrote {MATRIX_FILE} ({len(matrix.splitlines())} lines)")
        else:
            self.stdout.write(matrix, ending="")
