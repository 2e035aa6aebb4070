"""docs/authorization.md is the authorization matrix printed from the code, and it is current."""

from io import StringIO

from django.core.management import call_command
from django.test import override_settings
from graphql import GraphQLObjectType

from schema.matrix import MATRIX_FILE
from schema.schema import schema
from tasks.codenames import VIEW_TASK


def matrix():
    out = StringIO()
    call_command("authorization_matrix", stdout=out)
    return out.getvalue()


@override_settings(GRAPHQL_FIELD_CODENAMES={})
def test_the_committed_matrix_is_current():
    assert MATRIX_FILE.read_text() == matrix(), (
        "docs/authorization.md is stale: run `make authorization` "
        "(python manage.py authorization_matrix --write) and commit it"
    )


@override_settings(GRAPHQL_FIELD_CODENAMES={})
def test_every_field_of_every_object_type_has_a_row():
    printed = matrix()
    sections = {section.split("\n", 1)[0]: section for section in printed.split("\n## ")[1:]}
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        section = sections[f"`{name}`"]
        for field_name in graphql_type.fields:
            assert f"\n| `{field_name}` |" in section, f"{name}.{field_name}"


@override_settings(GRAPHQL_FIELD_CODENAMES={})
def test_rules_describe_themselves():
    printed = matrix()
    assert "| `email` | the user themself or staff or holds accounts.view_user |" in printed
    assert "| `lastLogin` | the user themself or staff |" in printed
    assert "| `tokenAuth` | anyone; not a read-only API key |" in printed
    assert "| `title` | inherited from `Task` |" in printed


@override_settings(GRAPHQL_FIELD_CODENAMES={"Task": [VIEW_TASK], "Mutation.createTask": ["tasks.add_task"]})
def test_configured_codenames_are_shown_where_they_apply():
    printed = matrix()
    assert (
        "| `createTask` | authenticated; a verified email address when REQUIRE_VERIFIED_EMAIL is on; "
        "not a read-only API key | tasks.add_task, tasks.view_task (type `Task`) |"
    ) in printed
    assert "`Task`: tasks.view_task" in printed
