from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from accounts import audit, models
from accounts.exceptions import NotFound
from schema.permissions import inherit_visibility
from schema.relay import ModelNode, connection_type

if TYPE_CHECKING:
    from schema.accounts.types import User

EVENT_DESCRIPTIONS = {
    audit.EventType.REGISTER: "An account was created.",
    audit.EventType.LOGIN_SUCCESS: "tokenAuth started a session, or a user logged in to the admin.",
    audit.EventType.LOGIN_FAILURE: "tokenAuth or the admin's login refused a username and password.",
    audit.EventType.RATE_LIMITED: (
        "A rate-limited call came too often, or an operation cost more than its viewer's budget held."
    ),
    audit.EventType.TOKEN_REFRESH: "A refresh token was traded for a new pair.",
    audit.EventType.TOKEN_REUSE_DETECTED: "A consumed refresh token came back; its session was revoked.",
    audit.EventType.TOKEN_REVOKED: "A session was revoked with revokeToken.",
    audit.EventType.ALL_TOKENS_REVOKED: "Every session of a user was revoked with revokeAllTokens.",
    audit.EventType.PASSWORD_CHANGED: "A password was changed (changePassword, or in the admin).",
    audit.EventType.TOTP_ENABLED: "A user turned two-factor login on.",
    audit.EventType.TOTP_DISABLED: "A user turned two-factor login off.",
    audit.EventType.OTP_FAILURE: "A login gave a wrong or reused one-time code.",
    audit.EventType.API_KEY_CREATED: "A user created an API key.",
    audit.EventType.API_KEY_REVOKED: "A user revoked an API key.",
    audit.EventType.PERMISSION_DENIED: "A request was refused with FORBIDDEN.",
    audit.EventType.PASSWORD_RESET: "A password was set with a reset link; the user's sessions and API keys ended.",
    audit.EventType.EMAIL_VERIFIED: "A user followed the link that proves their address.",
    audit.EventType.EMAIL_CHANGED: "A user followed the link to a new address, which replaced the old one.",
}

AuditEventType = strawberry.enum(
    Enum(
        "AuditEventType",
        {
            event_type.name: strawberry.enum_value(event_type.value, description=EVENT_DESCRIPTIONS[event_type])
            for event_type in audit.EventType
        },
    ),
    description="What happened in an audit event.",
)


@inherit_visibility
@strawberry.type(description="One security-relevant event: who, from where, and whether it succeeded.")
class AuditEvent(ModelNode):
    model = models.AuditEvent
    pk: relay.NodeID[int]
    type: AuditEventType = strawberry.field(description="What happened.")
    user: Annotated["User", strawberry.lazy("schema.accounts.types")] | None = strawberry.field(
        description="The user it concerns, when known (a failed login of an unknown name has none)."
    )
    username: str | None = strawberry.field(description="The username as given or as it was at the time.")
    ip: str | None = strawberry.field(description="The client's IP address (see TRUSTED_PROXY_COUNT).")
    user_agent: str | None = strawberry.field(description="The client's User-Agent header, cut to 512 characters.")
    success: bool = strawberry.field(description="False for refusals and failures.")
    created_at: datetime = strawberry.field(description="When it happened.")
    request_id: str = strawberry.field(
        description="The X-Request-ID of the request that caused it, also on that request's log lines; "
        "empty for an event recorded outside a request (a management command)."
    )

    @classmethod
    def load(cls, viewer_user, pk):
        event = audit.visible_events(viewer_user).filter(pk=pk).first()
        if event is None:
            raise NotFound()
        return event


AuditEventConnection = connection_type(AuditEvent, noun="audit event")
