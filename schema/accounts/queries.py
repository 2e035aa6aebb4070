from typing import Annotated

import strawberry
from strawberry import relay

from accounts.exceptions import NotFound
from accounts.selectors import visible_users
from schema.accounts.types import UserType
from schema.permissions import IsAuthenticated, authenticated_user, protected_field
from schema.relay import load_node, register_node


def load_user_node(viewer_user, pk):
    user = visible_users(viewer_user).filter(pk=pk).first()
    if user is None:
        raise NotFound()
    return user


register_node("User", load_user_node)


@strawberry.type
class AccountQueries:
    @protected_field(IsAuthenticated(), description="The viewer: the user the credentials belong to.")
    def me(self, info: strawberry.Info) -> UserType:
        return authenticated_user(info)

    @protected_field(
        IsAuthenticated(),
        description="Any object by its global id; objects the viewer may not see are NOT_FOUND.",
    )
    def node(
        self, info: strawberry.Info, id: Annotated[strawberry.ID, strawberry.argument(description="A global object id.")]
    ) -> relay.Node | None:
        return load_node(authenticated_user(info), id)
