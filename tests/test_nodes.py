"""Every Node type has its own lookup, so `node(id:)` finds every kind of object it hands out."""

import pytest
import strawberry
from graphql import GraphQLObjectType
from strawberry import relay

from schema.relay import ModelNode
from schema.schema import schema
from tasks import models
from tests.graphql_util import error_codes


def node_types():
    graphql_schema = schema._schema
    for graphql_type in graphql_schema.type_map.values():
        if isinstance(graphql_type, GraphQLObjectType) and "Node" in {i.name for i in graphql_type.interfaces}:
            yield schema.get_type_by_name(graphql_type.name).origin


def test_every_node_type_of_the_schema_is_a_model_node_with_its_own_lookup():
    found = {node_type.__name__: node_type for node_type in node_types()}
    assert {"User", "Task", "ApiKey", "AuditEvent"} <= set(found)
    for name, node_type in found.items():
        assert issubclass(node_type, ModelNode), name
        assert "load" in vars(node_type) and "model" in vars(node_type), name


def test_a_node_type_without_a_lookup_cannot_be_declared():
    with pytest.raises(TypeError, match="must define load"):

        @strawberry.type
        class Forgetful(ModelNode):
            model = models.Task
            pk: relay.NodeID[int]

    with pytest.raises(TypeError, match="must define model"):

        class Modelless(ModelNode):
            @classmethod
            def load(cls, viewer_user, pk):
                return None


@pytest.mark.parametrize("type_name", ["Query", "PageInfo", "DateTime", "AuditEventType", "Nothing"])
def test_an_id_of_a_type_that_is_no_node_is_not_found(alice, client_for, type_name):
    result = client_for(alice).execute(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": relay.to_base64(type_name, alice.pk)}
    )
    assert error_codes(result) == ["NOT_FOUND"]
