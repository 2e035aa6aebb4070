"""schema.graphql is the exported SDL; the contract's SDL must stay compatible with the live schema."""

from pathlib import Path

from django.conf import settings
from graphql import build_schema, find_breaking_changes

from schema.schema import schema
from schema.sdl import SCHEMA_FILE, exported_sdl

CONTRACT = Path(settings.BASE_DIR).parent / "shared" / "spec" / "contract.graphql"

def test_schema_file_is_up_to_date():
    assert SCHEMA_FILE.read_text() == exported_sdl(), "schema.graphql is stale: run `make schema`"


def test_schema_is_a_compatible_superset_of_the_contract():
    contract = build_schema(CONTRACT.read_text())
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
