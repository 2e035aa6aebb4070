"""The credentials of many open WebSockets, checked again all at once.

A socket authenticates when it opens (accounts.authentication) and may stay open for hours;
revocation must still reach it, whichever process made the change and however (a mutation, the
admin, a shell, a plain UPDATE), and each event must be resolved for the user as the database
holds them at that moment. So a server process checks all its sockets' credentials at once: one
query for their sessions and one for their API keys, users included, however many sockets there
are (a query per thousand, past that), under the rules every request applies
(LoginSession.check_usable, ApiKey.is_usable).
"""

from django.utils import timezone

from accounts.authentication import Viewer
from accounts.exceptions import Unauthenticated
from accounts.models import ApiKey, LoginSession

IDS_PER_QUERY = 1000


def current(viewers, now=None):
    """{viewer: what it is now}: for each viewer, the same credential's Viewer with its user as
    the database holds it now, or the reason (str) the credential would now be refused. Viewers of
    one credential share one fresh user object; an anonymous viewer stays as it is."""
    now = now or timezone.now()
    found = {}
    by_session, by_key = {}, {}
    for viewer in viewers:
        if not viewer.is_authenticated:
            found[viewer] = viewer
        elif viewer.expires_at is not None and viewer.expires_at <= now:
            found[viewer] = Unauthenticated.API_KEY_INVALID if viewer.api_key else Unauthenticated.EXPIRED
        elif viewer.api_key is not None:
            by_key.setdefault(viewer.api_key.pk, []).append(viewer)
        elif viewer.session_id is not None:
            by_session.setdefault(viewer.session_id, []).append(viewer)
    for session_ids in _chunks(by_session):
        sessions = LoginSession.objects.select_related("user").in_bulk(session_ids)
        for session_id in session_ids:
            session = sessions.get(session_id)
            reason = _session_refusal(session, now)
            for viewer in by_session[session_id]:
                found[viewer] = reason or Viewer(user=session.user, session_id=session.pk, expires_at=viewer.expires_at)
    for key_ids in _chunks(by_key):
        keys = ApiKey.objects.select_related("user").in_bulk(key_ids)
        for key_id in key_ids:
            key = keys.get(key_id)
            usable = key is not None and key.is_usable(now)
            for viewer in by_key[key_id]:
                found[viewer] = (
                    Viewer(user=key.user, api_key=key, expires_at=key.expires_at)
                    if usable
                    else Unauthenticated.API_KEY_INVALID
                )
    return found


def _session_refusal(session, now):
    if session is None:  # deleted, with its user
        return Unauthenticated.REVOKED
    try:
        session.check_usable(now)
    except Unauthenticated as rejected:
        return rejected.reason
    return None


def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ids[start : start + IDS_PER_QUERY]
