from datetime import datetime

import strawberry
from django.db.models import prefetch_related_objects
from strawberry import relay

from accounts import models
from accounts.backends import load_codenames
from accounts.codenames import VIEW_USER
from accounts.exceptions import NotFound, ValidationFailed
from accounts.oidc import identity_names
from accounts.selectors import visible_users
from schema.batching import batch_of
from schema.permissions import (
    HasCodenames,
    IsSelf,
    IsStaff,
    ViewerMeets,
    authenticated_user,
    inherit_visibility,
    protected_field,
    viewer_is_payload_user,
)
from schema.relay import ModelNode, Page, connection_type, global_id_field, paginated
from schema.tasks.types import FilterArgument, OrderArgument, TaskConnection, task_listing
from tasks import models as tasks_models
from tasks.codenames import VIEW_TASK
from tasks.selectors import SEES_ALL_TASKS, can_see_all_tasks, visible_tasks

SELF_OR_STAFF = IsSelf() | IsStaff()


@inherit_visibility
@strawberry.type(description="A person with an account.")
class User(ModelNode):
    model = models.User
    pk: relay.NodeID[int]
    _id: relay.GlobalID = global_id_field("User")
    username: str = strawberry.field(description="Unique login name.")
    email: str | None = protected_field(SELF_OR_STAFF | HasCodenames(VIEW_USER), description="Email address.")
    is_staff: bool = strawberry.field(
        description="The account's staff flag. Staff, and superusers whatever this says, may read what other users own."
    )
    date_joined: datetime = strawberry.field(description="When the account was created.")
    last_login: datetime | None = protected_field(SELF_OR_STAFF, description="When the user last logged in.")
    email_verified: bool | None = protected_field(
        SELF_OR_STAFF,
        description="Whether the present address was proved by following a mailed link (verifyEmail).",
    )

    # These fields load what they read for every user of the list their user came in
    # (schema.batching), so a page of users costs one query per field, not one per user.

    @protected_field(SELF_OR_STAFF, description="Names of the user's roles.")
    def roles(self, root: strawberry.Parent[models.User]) -> list[str] | None:
        batch_of(root).load("groups", lambda users: prefetch_related_objects(users, "groups"))
        return sorted(group.name for group in root.groups.all())

    @protected_field(SELF_OR_STAFF, description='Effective codenames ("app_label.codename").')
    def permissions(self, root: strawberry.Parent[models.User]) -> list[str] | None:
        batch_of(root).load("codenames", load_codenames)
        return sorted(root.get_all_permissions())

    @protected_field(SELF_OR_STAFF, description="Whether two-factor login is on.")
    def totp_enabled(self, root: strawberry.Parent[models.User]) -> bool | None:
        batch_of(root).load("totp_device", lambda users: prefetch_related_objects(users, "totp_device"))
        device = getattr(root, "totp_device", None)
        return device is not None and device.is_confirmed

    @protected_field(SELF_OR_STAFF, description="Names of the OpenID Connect providers linked to the account, sorted.")
    def identities(self, root: strawberry.Parent[models.User]) -> list[str] | None:
        batch_of(root).load("oidc_identities", lambda users: prefetch_related_objects(users, "oidc_identities"))
        return identity_names(root)

    @protected_field(
        IsSelf() | ViewerMeets(can_see_all_tasks, SEES_ALL_TASKS, required=[VIEW_TASK]), description="The user's tasks."
    )
    @paginated
    def tasks(
        self,
        info: strawberry.Info,
        root: strawberry.Parent[models.User],
        page: Page,
        filter: FilterArgument = None,
        order_by: OrderArgument = None,
    ) -> TaskConnection | None:
        viewer = authenticated_user(info)

        def pages_of_each(users):
            owners = list(dict.fromkeys(user.pk for user in users))
            # The rule lets only the user themself, or whoever sees all tasks, this far; the
            # pages of the others are loaded with the rest, from what the viewer may see.
            tasks = tasks_models.Task.objects.all() if owners == [viewer.pk] else visible_tasks(viewer)
            queryset, ordering = task_listing(info, tasks, filter, order_by)
            return TaskConnection.paginate_each(queryset, ordering, "owner", owners, page)

        arguments = ("tasks", viewer.pk, repr(page), repr(filter), repr(order_by))
        connection = batch_of(root).load(arguments, pages_of_each)[root.pk]
        if isinstance(connection, ValidationFailed):
            raise connection
        return connection

    @classmethod
    def load(cls, viewer_user, pk):
        user = visible_users(viewer_user).filter(pk=pk).first()
        if user is None:
            raise NotFound()
        return user


UserConnection = connection_type(User, noun="user")


@inherit_visibility
@strawberry.type(description="The account that register created.")
class RegisterPayload:
    id: strawberry.ID = strawberry.field(description="Global id of the new user.")
    username: str = strawberry.field(description="The new user's username.")
    email: str = strawberry.field(description="The new user's email address.")
    date_joined: datetime = strawberry.field(description="When the account was created.")


@viewer_is_payload_user
@inherit_visibility
@strawberry.type(description="A fresh access and refresh token of one login session.")
class TokenPayload:
    access: str = strawberry.field(description="Access token: send it as `Authorization: Bearer <access>`.")
    refresh: str | None = strawberry.field(
        description=(
            "Refresh token: trade it once for a new pair with refreshToken. "
            "Null when it was set as a cookie instead (`cookie: true`)."
        )
    )
    access_expires_at: datetime = strawberry.field(description="When the access token expires.")
    refresh_expires_at: datetime = strawberry.field(description="When the refresh token expires.")
    user: User = strawberry.field(description="The logged-in user, who is the viewer within this payload.")


@inherit_visibility
@strawberry.type(description="The result of revoking a session.")
class RevokePayload:
    revoked: bool = strawberry.field(description="False when the session was already revoked or the token expired.")
