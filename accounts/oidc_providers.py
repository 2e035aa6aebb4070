"""The OpenID providers people may sign in with, and the redirect URIs they may return to
(API.md section 15), as the settings read them from OIDC_PROVIDERS and OIDC_REDIRECT_URIS.

Checked once, when the settings are read, so a provider the server must not talk to stops it at
start: an issuer over plain http is accepted only on a loopback host (tests, development),
where nobody between the two can read or change the traffic. No message holds a client secret.
"""

import ipaddress
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

DEFAULT_SCOPES = ("openid", "email", "profile")
# Provider names travel in GraphQL arguments and audit usernames (`oidc:<name>`).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$")
ISSUER_MAX_LENGTH = 255  # what accounts.models.OidcIdentity stores
EXAMPLE = '[{"name": "acme", "issuer": "https://id.acme.example", "client_id": "...", "client_secret": "..."}]'


@dataclass(frozen=True)
class Provider:
    name: str
    issuer: str
    client_id: str
    # Settings are shown on DEBUG's error pages and in test failures: never the secret.
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def discovery_url(self):
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def configured_providers(raw, variable="OIDC_PROVIDERS"):
    """The providers a JSON list describes (none for an empty value), or ImproperlyConfigured."""
    if not raw.strip():
        return ()
    try:
        items = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{variable} must be a JSON list like {EXAMPLE}") from None
    if not isinstance(items, list):
        raise ImproperlyConfigured(f"{variable} must be a JSON list like {EXAMPLE}")
    providers = tuple(_provider(item, position, variable) for position, item in enumerate(items, start=1))
    names = [provider.name for provider in providers]
    if len(set(names)) != len(names):
        raise ImproperlyConfigured(f"{variable}: two providers have the same name.")
    return providers


def _provider(item, position, variable):
    where = f"{variable}: provider {position}"
    if not isinstance(item, dict):
        raise ImproperlyConfigured(f"{where} must be an object like {EXAMPLE}")
    unknown = set(item) - {"name", "issuer", "client_id", "client_secret", "scopes"}
    if unknown:
        raise ImproperlyConfigured(f"{where} has unknown keys: {', '.join(sorted(unknown))}")
    for key in ("name", "issuer", "client_id", "client_secret"):
        if not isinstance(item.get(key), str) or not item[key]:
            raise ImproperlyConfigured(f"{where} needs {key!r}, a non-empty string")
    if not NAME_PATTERN.match(item["name"]):
        raise ImproperlyConfigured(
            f"{where}: a name is 1 to 50 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    scopes = item.get("scopes", list(DEFAULT_SCOPES))
    if not isinstance(scopes, list) or not all(isinstance(scope, str) and scope for scope in scopes):
        raise ImproperlyConfigured(f"{where}: scopes must be a list of strings")
    issuer_problem = _issuer_problem(item["issuer"])
    if issuer_problem:
        raise ImproperlyConfigured(f"{where} ({item['name']}): {issuer_problem}")
    return Provider(
        name=item["name"],
        issuer=item["issuer"],
        client_id=item["client_id"],
        client_secret=item["client_secret"],
        # openid is always asked for: without it there is no ID token.
        scopes=("openid", *dict.fromkeys(scope for scope in scopes if scope != "openid")),
    )


def _issuer_problem(issuer):
    parts = urlsplit(issuer)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return "the issuer must be an https:// URL"
    if parts.query or parts.fragment:
        return "the issuer must have no query or fragment"
    if len(issuer) > ISSUER_MAX_LENGTH:
        return f"the issuer must be at most {ISSUER_MAX_LENGTH} characters"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "an http:// issuer is accepted only on a loopback host (localhost, 127.0.0.0/8, ::1); use https://"
    return None


def is_loopback(hostname):
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def checked_redirect_uris(uris, variable="OIDC_REDIRECT_URIS"):
    """The redirect URIs a frontend may ask the provider to return to: absolute, no fragment
    (RFC 6749 section 3.1.2). A redirectUri must equal one of them exactly."""
    for uri in uris:
        parts = urlsplit(uri)
        if not parts.scheme or not (parts.netloc or parts.path) or parts.fragment or "#" in uri:
            raise ImproperlyConfigured(
                f"{variable}: {uri!r} is not an absolute URI without a fragment, like https://app.example.com/callback"
            )
    return tuple(uris)
