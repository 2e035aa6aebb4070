"""The authorization matrix: every field of every object type, its rule, and the operator's codenames.

Printed from the schema and the rules themselves (each rule's describe()), so it cannot drift
from what the server enforces. `python manage.py authorization_matrix --write` rewrites
docs/authorization.md (`make authorization`); tests/test_authorization_matrix.py fails when the
committed page is stale.
"""

from pathlib import Path

from django.conf import settings
from graphql import GraphQLObjectType, get_named_type, is_abstract_type

from schema.codenames import ROOT_TYPES, returned_types
from schema.permissions import field_rule

MATRIX_FILE = Path(settings.BASE_DIR) / "docs" / "authorization.md"

HEADER = """# Authorization matrix

Generated from the code by `python manage.py authorization_matrix` (`make authorization` rewrites
this page; a test fails when it is stale). Each rule is described by the rule object declared on
the field, so this page says exactly what the server enforces. A field *inherited from* its type
has no rule of its own: whoever is given an object of that type may read it. Every rule is checked
for the viewer, who inside a `TokenPayload` is the payload's user. Roles, staff, superusers and how
operators add codenames: [permissions.md](permissions.md).
"""


def _cell(text):
    return text.replace("|", "\\|")


def _configured_cell(strawberry_schema, type_name, field_name, configured):
    parts = list(configured.get(f"{type_name}.{field_name}", ()))
    for returned in sorted(returned_types(strawberry_schema, type_name, field_name)):
        parts += [f"{codename} (type `{returned}`)" for codename in configured.get(returned, ())]
    return ", ".join(parts)


def _rule_cell(strawberry_field, type_name):
    rule = field_rule(strawberry_field)
    if rule is None:
        return f"inherited from `{type_name}`"
    return rule.describe()


def _reached_through(graphql_schema, strawberry_schema, type_name):
    """The fields that hand out objects of `type_name`, directly or as a Node."""
    interfaces = {interface.name for interface in graphql_schema.type_map[type_name].interfaces}
    through = []
    for parent_name, parent in graphql_schema.type_map.items():
        if parent_name.startswith("__") or not isinstance(parent, GraphQLObjectType):
            continue
        for field_name, graphql_field in parent.fields.items():
            returned = get_named_type(graphql_field.type)
            if type_name in returned_types(strawberry_schema, parent_name, field_name) or (
                is_abstract_type(returned) and returned.name in interfaces
            ):
                through.append(f"`{parent_name}.{field_name}`")
    return through


def _object_types(graphql_schema):
    names = [
        name for name, graphql_type in graphql_schema.type_map.items() if isinstance(graphql_type, GraphQLObjectType)
    ]
    roots = [name for name in ("Query", "Mutation", "Subscription") if name in names]
    return roots + sorted(name for name in names if name not in ROOT_TYPES and not name.startswith("__"))


def authorization_matrix(strawberry_schema, configured):
    graphql_schema = strawberry_schema._schema
    get_graphql_name = strawberry_schema.config.name_converter.get_graphql_name
    lines = [HEADER]
    if configured:
        lines.append("Codenames configured in `GRAPHQL_FIELD_CODENAMES`:\n")
        lines += [f"- `{key}`: {', '.join(codenames)}" for key, codenames in sorted(configured.items())]
    else:
        lines.append("Codenames configured in `GRAPHQL_FIELD_CODENAMES`: none (the defaults below).")
    for type_name in _object_types(graphql_schema):
        lines.append(f"\n## `{type_name}`\n")
        if type_name not in ROOT_TYPES:
            through = _reached_through(graphql_schema, strawberry_schema, type_name)
            lines.append(f"Handed out by {', '.join(through) if through else 'no field'}.\n")
        lines.append("| field | rule | configured codenames |")
        lines.append("|---|---|---|")
        for strawberry_field in strawberry_schema.get_type_by_name(type_name).fields:
            field_name = get_graphql_name(strawberry_field)
            rule = _cell(_rule_cell(strawberry_field, type_name))
            codenames = _configured_cell(strawberry_schema, type_name, field_name, configured)
            lines.append(f"| `{field_name}` | {rule} | {codenames} |")
    return "\n".join(lines) + "\n"
