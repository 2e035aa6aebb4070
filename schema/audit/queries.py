from typing import Annotated

import strawberry

from accounts import audit
from accounts.codenames import VIEW_AUDIT_EVENT
from accounts.exceptions import NotFound, ValidationFailed
from schema.audit.types import AuditEventConnection, AuditEventType
from schema.permissions import HasCodenames, authenticated_user, protected_field
from schema.relay import Page, paginated, parse_pk


def user_pk_filter(user_id):
    """The primary key inside a User id given as a filter; any other id is bad input."""
    try:
        return parse_pk(user_id, "User", "user_id")
    except NotFound:
        raise ValidationFailed({"user_id": ["Not the id of a user."]}) from None


@strawberry.type
class AuditQueries:
    @protected_field(
        HasCodenames(VIEW_AUDIT_EVENT),
        description="The audit log, newest first.",
    )
    @paginated
    def audit_events(
        self,
        info: strawberry.Info,
        page: Page,
        type: Annotated[AuditEventType | None, strawberry.argument(description="Only events of this type.")] = None,
        user_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only events about this user (a User id).")
        ] = None,
    ) -> AuditEventConnection:
        events = audit.matching_events(
            audit.visible_events(authenticated_user(info)),
            event_type=type.value if type is not None else None,
            user_id=user_pk_filter(user_id) if user_id is not None else None,
        )
        return AuditEventConnection.paginate(events, ("-created_at",), page, info)
