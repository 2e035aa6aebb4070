"""The audit log: one row per security-relevant event, and one structured log line."""

import json
import logging

from accounts.models import AuditEvent

logger = logging.getLogger("accounts.audit")

EventType = AuditEvent.Type
USERNAME_MAX_LENGTH = AuditEvent._meta.get_field("username").max_length


def _as_stored(typed_username):
    """A failed login records the username as typed: any length, even NUL characters,
    which PostgreSQL refuses to store."""
    return typed_username.replace("\x00", "")[:USERNAME_MAX_LENGTH]


def record(event_type, meta, *, user=None, username="", success=True):
    event = AuditEvent.objects.create(
        type=event_type,
        user=user,
        username=_as_stored(username or (user.get_username() if user else "")),
        ip=meta.ip,
        user_agent=meta.user_agent,
        success=success,
    )
    logger.info(
        json.dumps(
            {
                "event": event.type,
                "user_id": event.user_id,
                "username": event.username,
                "ip": event.ip,
                "user_agent": event.user_agent,
                "success": event.success,
            }
        )
    )
    return event


VIEW_AUDIT_EVENT = "accounts.view_auditevent"


def visible_events(viewer_user):
    """The whole log for holders of accounts.view_auditevent; nothing for anyone else."""
    events = AuditEvent.objects.select_related("user")
    return events if viewer_user.has_perm(VIEW_AUDIT_EVENT) else events.none()


def matching_events(events, event_type=None, user_id=None):
    if event_type is not None:
        events = events.filter(type=event_type)
    if user_id is not None:
        # Through the user's primary key, which Django knows matches nothing beyond its range
        # (SQLite refuses to even compare user_id with such an integer).
        events = events.filter(user__pk=user_id)
    return events
