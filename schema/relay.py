"""Relay global object identification: opaque ids and the `node` lookup."""

from strawberry import relay

from accounts.exceptions import NotFound, ValidationFailed

_node_loaders = {}


def register_node(type_name, loader):
    """`loader(viewer_user, node_id)` returns the object or raises NotFound when hidden."""
    _node_loaders[type_name] = loader


def to_global_id(type_name, pk):
    return relay.to_base64(type_name, pk)


def parse_global_id(value, argument="id"):
    try:
        global_id = relay.GlobalID.from_id(value)
    except (ValueError, TypeError):
        raise ValidationFailed({argument: ["Not a valid id."]}) from None
    return global_id.type_name, global_id.node_id


def parse_pk(value, expected_type, argument="id"):
    """The primary key inside a global id of `expected_type`; another type's id is not found."""
    type_name, node_id = parse_global_id(value, argument)
    if type_name != expected_type:
        raise NotFound()
    if not node_id.isdigit():
        raise ValidationFailed({argument: ["Not a valid id."]})
    return int(node_id)


def load_node(viewer_user, value):
    type_name, _ = parse_global_id(value)
    loader = _node_loaders.get(type_name)
    if loader is None:
        raise NotFound()
    return loader(viewer_user, parse_pk(value, type_name))
