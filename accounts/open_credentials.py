"""Which of many open credentials would now be refused: the recheck of open WebSockets.

A socket authenticates when it opens (accounts.authentication) and may stay open for hours;
revocation must still reach it, whichever process made the change and however (a mutation, the
admin, a shell, a plain UPDATE). So a server process rechecks all its sockets at once, every few
seconds: one query for their sessions and one for their API keys however many sockets there are
(a query per thousand, past that), under the rules every request applies
(LoginSession.check_usable, ApiKey.is_usable).
"""

from django.utils import timezone

from accounts.exceptions import TokenRejected
from accounts.models import ApiKey, LoginSession

IDS_PER_QUERY = 1000


def refusals(viewers, now=None):
    """{viewer: reason} for each authenticated viewer whose credential would be refused at `now`."""
    now = now or timezone.now()
    refused = {}
    by_session, by_key = {}, {}
    for viewer in viewers:
        if viewer.expires_at is not None and viewer.expires_at <= now:
            refused[viewer] = TokenRejected.API_KEY_INVALID if viewer.api_key else TokenRejected.EXPIRED
        elif viewer.api_key is not None:
            by_key.setdefault(viewer.api_key.pk, []).append(viewer)
        elif viewer.session_id is not None:
            by_session.setdefault(viewer.session_id, []).append(viewer)
    for session_ids in _chunks(by_session):
        sessions = LoginSession.objects.select_related("user").in_bulk(session_ids)
        for session_id in session_ids:
            reason = _session_refusal(sessions.get(session_id), now)
            if reason:
                refused.update(dict.fromkeys(by_session[session_id], reason))
    for key_ids in _chunks(by_key):
        keys = ApiKey.objects.select_related("user").in_bulk(key_ids)
        for key_id in key_ids:
            key = keys.get(key_id)
            if key is None or not key.is_usable(now):
                refused.update(dict.fromkeys(by_key[key_id], TokenRejected.API_KEY_INVALID))
    return refused


def _session_refusal(session, now):
    if session is None:  # deleted, with its user
        return TokenRejected.REVOKED
    try:
        session.check_usable(now)
    except TokenRejected as rejected:
        return rejected.reason
    return None


def _chunks(ids):
    ids = list(ids)
    for start in range(0, len(ids), IDS_PER_QUERY):
        yield ids[start : start + IDS_PER_QUERY]
