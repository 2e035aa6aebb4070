"""The refresh cookie at the HTTP edge (docs/sessions.md): read it for refreshToken and
revokeToken once the request proved where it came from, set it, clear it.

The rules are accounts.cookies'; this module only reads the request and writes the response
(Strawberry copies the cookies of `info.context.response` onto the real one).
"""

from django.conf import settings
from django.utils import timezone

from accounts import cookies
from accounts.exceptions import Forbidden, Unauthenticated

CSRF = "csrf"
CSRF_MESSAGE = "The refresh cookie is only used by a POST with Content-Type: application/json from an allowed Origin."


def _attributes(request):
    return cookies.attributes(request.is_secure())


def token_from_cookie(info):
    """The refresh token in the request's cookie.

    UNAUTHENTICATED missing_credentials without the cookie (there is nothing to protect then,
    whatever the Origin); FORBIDDEN reason csrf when the request does not prove it came from
    an allowed page, before anything is read or changed.
    """
    request = info.context.request
    token = request.COOKIES.get(_attributes(request).name)
    if not token:
        raise Unauthenticated()
    own = cookies.own_origins(
        request.scheme,
        request.get_host(),
        cookies.forwarded_host(request.headers.get("X-Forwarded-Host"), settings.TRUSTED_PROXY_COUNT),
    )
    if not cookies.comes_from_an_allowed_page(
        request.method, request.content_type, request.headers.get("Origin"), own, settings.CORS_ALLOWED_ORIGINS
    ):
        raise Forbidden(CSRF_MESSAGE, reason=CSRF)
    return token


def set_cookie(info, token, expires_at):
    """Put `token` in the cookie until `expires_at`."""
    _write(info, token, cookies.max_age(expires_at, timezone.now()))


def clear_cookie(info):
    """Tell the browser to drop the cookie: the same name, path and flags, Max-Age=0."""
    _write(info, "", 0)


def _write(info, value, max_age):
    attributes = _attributes(info.context.request)
    info.context.response.set_cookie(
        attributes.name,
        value,
        max_age=max_age,
        path=attributes.path,
        secure=attributes.secure,
        httponly=attributes.httponly,
        samesite=attributes.samesite,
    )
