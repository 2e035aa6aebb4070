from typing import Annotated

import strawberry

from accounts import audit
from accounts.exceptions import NotFound, ValidationFailed
from schema.audit.types import AuditEventConnection, AuditEventKind
from schema.permissions import HasCodenames, authenticated_user, protected_field
from schema.relay import After, Before, First, Last, parse_pk, register_node


def load_audit_event_node(viewer_user, pk):
    event = audit.visible_events(viewer_user).filter(pk=pk).first()
    if event is None:
        raise NotFound()
    return event


register_node("AuditEvent", load_audit_event_node)


def user_pk_filter(user_id):
    """The primary key inside a User id given as a filter; any other id is bad input."""
    try:
        return parse_pk(user_id, "User", "user_id")
    except NotFound:
        raise ValidationFailed({"user_id": ["Not the id of a user."]}) from None


@strawberry.type
class AuditQueries:
    @protected_field(
        HasCodenames(audit.VIEW_AUDIT_EVENT),
        description="The audit log, newest first; needs accounts.view_auditevent.",
    )
    def audit_events(
        self,
        info: strawberry.Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        type: Annotated[
            AuditEventKind | None, strawberry.argument(description="Only events of this type.")
        ] = None,
        user_id: Annotated[
            strawberry.ID | None, strawberry.argument(description="Only events about this user (a User id).")
        ] = None,
    ) -> AuditEventConnection:
        events = audit.matching_events(
            audit.visible_events(authenticated_user(info)),
            event_type=type.value if type is not None else None,
            user_id=user_pk_filter(user_id) if user_id is not None else None,
        )
        return AuditEventConnection.paginate(
            events, ("-created_at",), info, first=first, after=after, last=last, before=before
        )
