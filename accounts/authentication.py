"""Turn the credentials of a request into a Viewer: who is asking, and through what."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from accounts import apikeys, tokens
from accounts.compiled_lookup import CompiledLookup
from accounts.exceptions import Unauthenticated
from accounts.models import ApiKey, LoginSession, User

# The session with its user, which every request with an access token reads.
SESSION_WITH_USER = CompiledLookup(LoginSession, "pk", related="user")


@dataclass(frozen=True)
class Viewer:
    user: User | None = None
    # The login session of an access token; None for an API key.
    session_id: uuid.UUID | None = None
    api_key: ApiKey | None = None
    # Set when a credential was presented but refused; such a request is never anonymous.
    rejection: str | None = None
    # When the credential stops working by itself (the access token's exp, the key's expiry),
    # for what outlives a request: an open WebSocket (schema/sockets).
    expires_at: datetime | None = None

    @property
    def is_authenticated(self):
        return self.user is not None


ANONYMOUS = Viewer()


def authenticate(authorization_header, api_key_header=None, client_ip=None):
    """The viewer for a request's `Authorization` and `X-API-Key` headers, sent from `client_ip`.

    A request carries one credential at most: with both headers it is refused
    (api_key_invalid) rather than guessing which one the client meant to use.
    """
    if authorization_header and api_key_header:
        return Viewer(rejection=Unauthenticated.API_KEY_INVALID)
    try:
        if api_key_header:
            return authenticate_api_key(api_key_header, client_ip)
        if authorization_header:
            return authenticate_bearer(authorization_header)
    except Unauthenticated as rejected:
        return Viewer(rejection=rejected.reason)
    return ANONYMOUS


def authenticate_bearer(authorization_header):
    scheme, _, token = authorization_header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(Unauthenticated.INVALID)
    return authenticate_access_token(token.strip())


def authenticate_access_token(raw_token):
    claims = tokens.ACCESS.decode(raw_token)
    # One query per request: the session's state is the source of truth for revocation.
    session = SESSION_WITH_USER.find(claims.session_id)
    if session is None or str(session.user_id) != claims.user_id:
        raise Unauthenticated(Unauthenticated.INVALID)
    session.check_usable()
    return Viewer(user=session.user, session_id=session.id, expires_at=claims.expires_at)


def authenticate_api_key(secret, client_ip=None):
    key = apikeys.authenticate(secret, client_ip)
    return Viewer(user=key.user, api_key=key, expires_at=key.expires_at)
