from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from accounts.models import AuditEvent
from schema.columns import row_class
from schema.permissions import inherit_visibility
from schema.relay import connection_type

if TYPE_CHECKING:
    from schema.accounts.types import UserType

EVENT_DESCRIPTIONS = {
    AuditEvent.Type.REGISTER: "An account was created.",
    AuditEvent.Type.LOGIN_SUCCESS: "tokenAuth started a session, or a user logged in to the admin.",
    AuditEvent.Type.LOGIN_FAILURE: "tokenAuth or the admin's login refused a username and password.",
    AuditEvent.Type.RATE_LIMITED: (
        "A rate-limited call came too often, or an operation cost more than its viewer's budget held."
    ),
    AuditEvent.Type.TOKEN_REFRESH: "A refresh token was traded for a new pair.",
    AuditEvent.Type.TOKEN_REUSE_DETECTED: "A consumed refresh token came back; its session was revoked.",
    AuditEvent.Type.TOKEN_REVOKED: "A session was revoked with revokeToken.",
    AuditEvent.Type.ALL_TOKENS_REVOKED: "Every session of a user was revoked with revokeAllTokens.",
    AuditEvent.Type.PASSWORD_CHANGED: "A password was changed (changePassword, or in the admin).",
    AuditEvent.Type.TOTP_ENABLED: "A user turned two-factor login on.",
    AuditEvent.Type.TOTP_DISABLED: "A user turned two-factor login off.",
    AuditEvent.Type.OTP_FAILURE: "A login gave a wrong or reused one-time code.",
    AuditEvent.Type.API_KEY_CREATED: "A user created an API key.",
    AuditEvent.Type.API_KEY_REVOKED: "A user revoked an API key.",
    AuditEvent.Type.PERMISSION_DENIED: "A request was refused with FORBIDDEN.",
    AuditEvent.Type.PASSWORD_RESET: "A password was set with a reset link; the user's sessions and API keys ended.",
    AuditEvent.Type.EMAIL_VERIFIED: "A user followed the link that proves their address.",
    AuditEvent.Type.EMAIL_CHANGED: "A user followed the link to a new address, which replaced the old one.",
}

AuditEventKind = strawberry.enum(
    Enum(
        "AuditEventKind",
        {
            kind.name: strawberry.enum_value(kind.value, description=EVENT_DESCRIPTIONS[kind])
            for kind in AuditEvent.Type
        },
    ),
    name="AuditEventType",
    description="What happened in an audit event.",
)


@inherit_visibility
@strawberry.type(
    name="AuditEvent", description="One security-relevant event: who, from where, and whether it succeeded."
)
class AuditEventType(relay.Node):
    pk: relay.NodeID[int]
    type: AuditEventKind = strawberry.field(description="What happened.")
    user: Annotated["UserType", strawberry.lazy("schema.accounts.types")] | None = strawberry.field(
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
    def is_type_of(cls, obj, info):
        return isinstance(obj, (AuditEvent, row_class(AuditEvent), cls))


AuditEventConnection = connection_type(AuditEventType, name="AuditEvent", noun="audit event")
