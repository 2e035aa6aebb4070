from typing import Annotated

import strawberry
from strawberry import relay

from accounts.codenames import VIEW_USER
from accounts.selectors import matching_users, visible_users
from schema.accounts.types import User, UserConnection
from schema.codenames import check_type_codenames, reading_verdict
from schema.permissions import HasCodenames, IsAuthenticated, IsStaff, authenticated_user, protected_field
from schema.relay import Page, load_node, node_type_name, paginated


@strawberry.type
class AccountQueries:
    @protected_field(IsAuthenticated(), description="The viewer: the user the credentials belong to.")
    def me(self, info: strawberry.Info) -> User:
        return authenticated_user(info)

    @protected_field(
        IsAuthenticated(),
        shows="an object only to whoever its type's own lookup shows it to (a task as `task`, a user as `users`)",
        description="Any object by its global id; objects the viewer may not see are NOT_FOUND.",
    )
    def node(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="A global object id.")],
    ) -> relay.Node | None:
        # Before the lookup, so that an object the viewer may not see answers as a missing one does.
        check_type_codenames(info, node_type_name(id))
        return load_node(info, authenticated_user(info), id)

    @protected_field(
        IsStaff() | HasCodenames(VIEW_USER),
        description="Every user, by username.",
    )
    @paginated
    def users(
        self,
        info: strawberry.Info,
        page: Page,
        search: Annotated[
            str | None, strawberry.argument(description="Text the username or email contains, ignoring case.")
        ] = None,
    ) -> UserConnection:
        # Matching or ordering by a field the viewer may not read would reveal it.
        readable = [name for name in ("username", "email") if reading_verdict(info, "User", name).allowed]
        ordering = ("username",) if "username" in readable else ()
        users = matching_users(visible_users(authenticated_user(info)), search, search_fields=readable)
        # Joined: totpEnabled reads it; roles and the rest load for the whole page (schema.batching).
        users = users.select_related("totp_device")
        return UserConnection.paginate(users, ordering, page, info)
