"""schema.graphql is the exported SDL; the published contract must stay compatible with the live schema.

docs/contract.graphql is the schema as last published to clients. A change that would break a
client written against it (a removed field, a nullable argument made required...) fails here
until the snapshot is replaced on purpose (`cp schema.graphql docs/contract.graphql`) in a commit
that says which clients break and why. Adding fields, types and optional arguments needs no new snapshot.
"""

from pathlib import Path

from django.conf import settings
from graphql import build_schema, find_breaking_changes

from schema.schema import schema
from schema.sdl import SCHEMA_FILE, exported_sdl

PUBLISHED_CONTRACT = Path(settings.BASE_DIR) / "docs" / "contract.graphql"


def test_schema_file_is_up_to_date():
    assert SCHEMA_FILE.read_text() == exported_sdl(), "schema.graphql is stale: run `make schema`"


def test_schema_is_a_compatible_superset_of_the_published_contract():
    contract = build_schema(PUBLISHED_CONTRACT.read_text())
    live = build_schema(exported_sdl())
    assert [change.description for change in find_breaking_changes(contract, live)] == []


def test_every_type_field_and_argument_has_a_description():
    undocumented = []
    for type_ in schema._schema.type_map.values():
        if type_.name.startswith("__") or type_.name in {"String", "Boolean", "Int", "Float", "ID"}:
            continue
        if not type_.description:
            undocumented.append(type_.name)
        for field_name, field in getattr(type_, "fields", {}).items():
            if not field.description:
                undocumented.append(f"{type_.name}.{field_name}")
            for arg_name, arg in getattr(field, "args", {}).items():
                if not arg.description:
                    undocumented.append(f"{type_.name}.{field_name}({arg_name})")
        for value_name, value in getattr(type_, "values", {}).items():
            if not value.description:
                undocumented.append(f"{type_.name}.{value_name}")
    assert undocumented == []
