from typing import Annotated

import strawberry
from strawberry import relay

from accounts.exceptions import NotFound
from accounts.selectors import VIEW_USER, matching_users, visible_users
from schema.accounts.types import UserConnection, UserType
from schema.permissions import IsAuthenticated, IsStaffOrCodename, authenticated_user, protected_field
from schema.relay import After, Before, First, Last, load_node, register_node, selected_node_fields


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

    @protected_field(
        IsStaffOrCodename(VIEW_USER), description="Every user, by username; staff and holders of accounts.view_user."
    )
    def users(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        search: Annotated[
            str | None, strawberry.argument(description="Text the username or email contains, ignoring case.")
        ] = None,
    ) -> UserConnection:
        users = matching_users(visible_users(authenticated_user(info)), search).select_related("totp_device")
        if "roles" in selected_node_fields(info):
            users = users.prefetch_related("groups")
        return UserConnection.paginate(users, ("username",), first=first, after=after, last=last, before=before)
