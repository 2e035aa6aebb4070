"""The refresh-token cookie of browser sessions (docs/sessions.md): what the cookie looks like,
and what proves that a request using it came from an allowed page.

Pure functions of the settings and of facts about the request; the schema layer reads those
facts from the request and sets the cookie on the response. The cookie holds the refresh token
only and is read by refreshToken and revokeToken only: it authenticates nothing else.
"""

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

# The __Host- prefix makes browsers insist on Secure, Path=/ and no Domain, so no subdomain
# and no plain-HTTP page can set or shadow the cookie.
HTTPS_NAME = "__Host-refresh"
PLAIN_HTTP_NAME = "refresh"
# Browsers refuse a cookie with one of these prefixes unless it is Secure.
SECURE_ONLY_PREFIXES = ("__Host-", "__Secure-")

JSON = "application/json"
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class CookieAttributes:
    name: str
    secure: bool
    samesite: str
    httponly: bool = True
    # Required by the __Host- prefix; a cookie for the whole site, sent to the API wherever it is mounted.
    path: str = "/"


def attributes(request_is_https):
    """The cookie's attributes for a request: Secure except on plain HTTP in DEBUG, and named
    for that (unless JWT_REFRESH_COOKIE_NAME names it)."""
    plain_http_in_debug = settings.DEBUG and not request_is_https
    name = settings.JWT["REFRESH_COOKIE_NAME"] or (PLAIN_HTTP_NAME if plain_http_in_debug else HTTPS_NAME)
    return CookieAttributes(
        name=name,
        secure=not plain_http_in_debug or name.startswith(SECURE_ONLY_PREFIXES),
        samesite=settings.JWT["REFRESH_COOKIE_SAMESITE"],
    )


def max_age(expires_at, now):
    """Whole seconds the refresh token has left: the browser drops the cookie when the token dies."""
    return max(0, int((expires_at - now).total_seconds()))


def own_origins(scheme, host, forwarded_host=None):
    """The server's own origins: the request's scheme and host (with its port) as the application
    server reports them, and with trusted proxies (`forwarded_host`, already chosen from
    X-Forwarded-Host) the host the browser asked the proxy for."""
    origins = [f"{scheme}://{host}"]
    if forwarded_host:
        origins.append(f"{scheme}://{forwarded_host}")
    return origins


def forwarded_host(header, trusted_proxy_count):
    """The host of X-Forwarded-Host that the outermost trusted proxy wrote, or None.

    As for X-Forwarded-For (accounts.request_meta.client_ip), entries to the left of what the
    trusted proxies appended came from the client; a proxy that replaces the header leaves one.
    """
    if trusted_proxy_count <= 0 or not header:
        return None
    hosts = [part.strip() for part in header.split(",") if part.strip()]
    if not hosts:
        return None
    return hosts[-trusted_proxy_count] if len(hosts) >= trusted_proxy_count else hosts[0]


def comes_from_an_allowed_page(method, content_type, origin, own, allowed):
    """Whether a request may use the cookie (the CSRF proof): a POST with a JSON body, which a
    form on another site cannot send without a CORS preflight, from an `Origin` that is one of
    the server's `own` origins or one of the `allowed` ones (CORS_ALLOWED_ORIGINS)."""
    if method != "POST" or (content_type or "").lower() != JSON:
        return False
    claimed = _origin_key(origin)
    return claimed is not None and any(claimed == _origin_key(candidate) for candidate in (*own, *allowed))


def _origin_key(origin):
    """(scheme, host, port) of an origin, the port filled in for the scheme; None if `origin` is
    not one (missing, "null", a path or credentials in it)."""
    if not origin:
        return None
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if (
        scheme not in DEFAULT_PORTS
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        return None
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme]
