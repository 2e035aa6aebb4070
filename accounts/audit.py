"""The audit log: one row per security-relevant event, and one structured log line, both with the
id of the request that caused it (project.request_id)."""

import logging

from django.conf import settings
from django_ratelimit.core import get_usage

from accounts.codenames import VIEW_AUDIT_EVENT
from accounts.models import AuditEvent
from project import request_id
from project.json_logs import LogFields

logger = logging.getLogger("accounts.audit")

EventType = AuditEvent.Type
USERNAME_MAX_LENGTH = AuditEvent._meta.get_field("username").max_length

# Refusals are what a client can cause as fast as it likes, so a client adds at most
# AUDIT_MAX_EVENTS_PER_MINUTE rows of each of these kinds a minute; successes are always written.
CAPPED_PER_CLIENT = frozenset(
    {EventType.RATE_LIMITED, EventType.LOGIN_FAILURE, EventType.OTP_FAILURE, EventType.PERMISSION_DENIED}
)


def _as_stored(typed_username):
    """A failed login records the username as typed: any length, even NUL characters,
    which PostgreSQL refuses to store."""
    return typed_username.replace("\x00", "")[:USERNAME_MAX_LENGTH]


def record(event_type, meta, *, user=None, username="", success=True, details=None):
    """Write the event and its log line; returns the row, or None for a refusal past its client's cap.

    Such a refusal still gets its log line, marked `"stored": false`; the line of every capped
    kind says how many of that kind its client caused this minute (`count_this_minute`), so the
    log keeps the size of a flood that the table does not hold. `details` are facts for the log
    line only, such as the OpenID provider of a login.
    """
    username = _as_stored(username or (user.get_username() if user else ""))
    count = _count_this_minute(event_type, meta) if event_type in CAPPED_PER_CLIENT else None
    stored = count is None or count <= settings.AUDIT_MAX_EVENTS_PER_MINUTE
    event = None
    if stored:
        event = AuditEvent.objects.create(
            type=event_type, user=user, username=username, ip=meta.ip, user_agent=meta.user_agent, success=success,
            request_id=request_id.current(),
        )  # fmt: skip
    line = {
        "event": event_type,
        "user_id": user.pk if user else None,
        "username": username,
        "ip": meta.ip,
        "user_agent": meta.user_agent,
        "success": success,
        **(details or {}),
    }
    if count is not None:
        line.update(stored=stored, count_this_minute=count)
    logger.info(LogFields(line))
    return event


def _count_this_minute(event_type, meta):
    """Count one event of `event_type` from the request's client in the cache that holds the
    rate-limit counters (accounts.ratelimit), so every process sees the same count."""
    usage = get_usage(
        None,
        group=f"audit:{event_type}",
        key=lambda group, request: meta.client_key,
        rate=f"{settings.AUDIT_MAX_EVENTS_PER_MINUTE}/m",
        increment=True,
    )
    return usage["count"]


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
