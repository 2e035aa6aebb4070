"""Signing in with an OpenID Connect provider (docs/oidc.md): the authorization-code flow
with PKCE, the checks of the ID token, and the accounts an identity logs into.

The protocol is Authlib's: discovery, the authorization URL (state, nonce and an S256 code
challenge), the code exchange, and the ID token's signature (by the provider's JWK Set, through
joserfc) and claims (`iss`, `aud`, `exp`, `nonce`, `azp`, `at_hash`). What a browser session would
keep between the two steps is kept here in the database instead (OidcAuthorizationRequest), so
the second step may reach any server process; it is used once, within STATE_LIFETIME.

The accounts:
- an identity (issuer + `sub`) once linked always logs into the same user;
- a new identity whose email belongs to a local user is linked to that user only when the
  provider says `email_verified: true` and the user's own address is verified; otherwise the
  login fails with email_not_verified and nothing changes;
- any other new identity gets a new user without a usable password (its email, verified as the
  provider says, and a username made from it; without an email, from `sub`).
A second factor still applies: after OTP_REQUIRED or OTP_INVALID the request keeps the identity
the provider vouched for, and the same state may be retried with `otp` until it expires.
"""

import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import requests
from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OAuthError, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata
from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.db import IntegrityError, transaction
from django.utils import timezone
from joserfc.errors import JoseError

from accounts import audit, ratelimit, sessions, totp, usernames
from accounts.digests import digest
from accounts.email_rules import address_errors
from accounts.exceptions import InvalidCredentials, OidcFailed, OtpInvalid, OtpRequired, ValidationFailed
from accounts.login import LOGIN_FAILURE_RESULTS
from accounts.models import OidcAuthorizationRequest, OidcIdentity, User
from project import metrics

logger = logging.getLogger("accounts.oidc")

STATE_LIFETIME = timedelta(minutes=10)
# How far the provider's clock may be from ours, for exp and iat.
CLOCK_LEEWAY_SECONDS = 60
# Each call to a provider (discovery, keys, token endpoint) waits at most this long.
PROVIDER_TIMEOUT_SECONDS = 10
# A provider's discovery document and keys are fetched again after this long (keys sooner, when
# an ID token names a key the cached set does not hold: Authlib fetches the set again).
DISCOVERY_MAX_AGE_SECONDS = 3600
SUBJECT_MAX_LENGTH = OidcIdentity._meta.get_field("subject").max_length
REDIRECT_URI_NOT_ALLOWED = "This redirect URI is not one of OIDC_REDIRECT_URIS."
LOGGED_NAME_MAX_LENGTH = 100


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str


def providers():
    return settings.OIDC_PROVIDERS


def authorization_url(provider_name, redirect_uri, meta):
    """Where to send the browser to sign in at the provider, and the state it will come back with."""
    ratelimit.check_oidc(ratelimit.OIDC_AUTHORIZATION_SCOPE, meta)
    provider = _configured(provider_name)
    if redirect_uri not in settings.OIDC_REDIRECT_URIS:
        raise ValidationFailed({"redirect_uri": [REDIRECT_URI_NOT_ALLOWED]})
    # Authlib makes the state, the nonce and the PKCE verifier (S256 is set on the client).
    made = _client(provider).create_authorization_url(redirect_uri)
    now = timezone.now()
    with transaction.atomic():
        OidcAuthorizationRequest.objects.filter(created_at__lte=now - STATE_LIFETIME).delete()
        OidcAuthorizationRequest.objects.create(
            state_digest=digest(made["state"]),
            provider=provider.name,
            issuer=provider.issuer,
            redirect_uri=redirect_uri,
            nonce=made["nonce"],
            code_verifier=made["code_verifier"],
        )
    return Authorization(url=made["url"], state=made["state"])


def _login_result(error):
    """What metrics.OIDC_LOGINS counts for a refused oidcLogin: the OIDC_FAILED reason, or what
    tokenAuth's count says for the same refusal."""
    if isinstance(error, OidcFailed):
        return error.reason
    return LOGIN_FAILURE_RESULTS.get(type(error))


@metrics.counting(metrics.OIDC_LOGINS, _login_result)
def login(provider_name, code, state, otp, meta):
    """oidcLogin: trade the code for a verified identity and start a session for its user, as
    tokenAuth does. Every call that finds its state uses it up, unless it ends in OTP_REQUIRED
    or OTP_INVALID."""
    ratelimit.check_oidc(ratelimit.OIDC_LOGIN_SCOPE, meta)
    # For the log line; a name that is no provider's may be anything a client sent.
    details = {"provider": provider_name[:LOGGED_NAME_MAX_LENGTH]}
    try:
        provider = _configured(provider_name)
        request = _claim(provider, state)
        if request.user_id is not None:
            user, subject = request.user, request.subject
        else:
            user, subject = _account_for(provider, _verified_claims(provider, request, code), meta)
    except OidcFailed as failure:
        audit.record(
            audit.EventType.LOGIN_FAILURE, meta, user=failure.user,
            username=f"oidc:{provider_name}", success=False, details=details,
        )  # fmt: skip
        raise
    if not user.is_active:
        audit.record(audit.EventType.LOGIN_FAILURE, meta, user=user, success=False, details=details)
        raise InvalidCredentials()
    try:
        if otp:
            # A code is a guess at the second factor: from the same budget as tokenAuth's.
            ratelimit.check_login(user.get_username(), meta)
        totp.check_second_factor(user, otp, meta)
    except (OtpRequired, OtpInvalid):
        OidcAuthorizationRequest.objects.filter(pk=request.pk).update(used_at=None, user=user, subject=subject)
        raise
    with transaction.atomic():
        OidcIdentity.objects.get_or_create(
            issuer=provider.issuer, subject=subject, defaults={"user": user, "provider": provider.name}
        )
        update_last_login(None, user)
        pair = sessions.start_session(user)
    audit.record(audit.EventType.LOGIN_SUCCESS, meta, user=user, details=details)
    return pair


def identity_names(user):
    """User.identities: the names of the providers linked to `user`, sorted, each once."""
    return sorted({identity.provider for identity in user.oidc_identities.all()})


def _configured(name):
    provider = next((provider for provider in providers() if provider.name == name), None)
    if provider is None:
        raise OidcFailed(OidcFailed.UNKNOWN_PROVIDER)
    return provider


def _claim(provider, state):
    """The live authorization request of `state` for `provider`, marked used (of two concurrent
    claims one wins), or invalid_state."""
    now = timezone.now()
    live = OidcAuthorizationRequest.objects.filter(
        state_digest=digest(state),
        provider=provider.name,
        issuer=provider.issuer,
        used_at__isnull=True,
        created_at__gt=now - STATE_LIFETIME,
    )
    request = live.select_related("user").first()
    if request is None or not live.filter(pk=request.pk).update(used_at=now):
        raise OidcFailed(OidcFailed.INVALID_STATE)
    return request


class _ProviderClient(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's OpenID Connect client without a web framework: nothing is kept in a browser
    session (the project keeps the state itself), and nothing is refreshed."""

    client_cls = OAuth2Session


@dataclass(frozen=True)
class _CachedClient:
    client: _ProviderClient
    fresh_until: float


# One client per configured provider and process, with its discovery document and keys.
_clients = {}


def _client(provider):
    """The provider's client with its discovery document loaded: fetched on first use, and again
    once DISCOVERY_MAX_AGE_SECONDS have passed. Only configured providers are kept."""
    cached = _clients.get(provider)
    if cached is not None and cached.fresh_until > time.time():
        return cached.client
    client = _ProviderClient(
        framework=None,
        name=provider.name,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=provider.discovery_url,
        client_kwargs={
            "scope": " ".join(provider.scopes),
            "code_challenge_method": "S256",
            "default_timeout": PROVIDER_TIMEOUT_SECONDS,
        },
    )
    try:
        metadata = client.load_server_metadata()
        OpenIDProviderMetadata(metadata).validate()
    except (requests.RequestException, ValueError) as error:
        raise _failure(OidcFailed.PROVIDER_UNAVAILABLE, provider, error) from error
    # OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was read from.
    if metadata["issuer"] != provider.issuer:
        named = f"the discovery document names another issuer, {metadata['issuer']!r}"
        raise _failure(OidcFailed.PROVIDER_UNAVAILABLE, provider, named)
    client.client_kwargs["token_endpoint_auth_method"] = _client_authentication(metadata)
    for known in [known for known in _clients if known not in providers()]:
        del _clients[known]
    _clients[provider] = _CachedClient(client, time.time() + DISCOVERY_MAX_AGE_SECONDS)
    return client


def _client_authentication(metadata):
    """client_secret_basic, OAuth's default, unless the provider only takes client_secret_post."""
    supported = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if "client_secret_basic" not in supported and "client_secret_post" in supported:
        return "client_secret_post"
    return "client_secret_basic"


def _verified_claims(provider, request, code):
    """The claims of the ID token the provider gives for `code`, every check passed."""
    client = _client(provider)
    try:
        token = client.fetch_access_token(
            redirect_uri=request.redirect_uri, code=code, code_verifier=request.code_verifier
        )
    except (OAuthError, requests.RequestException, ValueError) as error:
        raise _failure(OidcFailed.EXCHANGE_FAILED, provider, error) from error
    if not isinstance(token.get("id_token"), str):
        raise _failure(OidcFailed.INVALID_ID_TOKEN, provider, "the token response holds no ID token")
    issued_after = request.created_at.timestamp() - CLOCK_LEEWAY_SECONDS
    claims_options = {
        "iss": {"essential": True, "value": provider.issuer},
        "aud": {"essential": True, "value": provider.client_id},
        "sub": {"essential": True, "validate": lambda claims, sub: len(sub) <= SUBJECT_MAX_LENGTH},
        # Not issued before this sign-in began (nor, as joserfc checks, in the future).
        "iat": {"essential": True, "validate": lambda claims, iat: iat >= issued_after},
    }
    try:
        # The signature by a key of the provider's JWK Set, then iss, aud, exp, iat, nonce, azp, at_hash.
        return client.parse_id_token(
            token, nonce=request.nonce, claims_options=claims_options, leeway=CLOCK_LEEWAY_SECONDS
        )
    except requests.RequestException as error:
        raise _failure(OidcFailed.PROVIDER_UNAVAILABLE, provider, error) from error
    except (JoseError, ValueError) as error:
        raise _failure(OidcFailed.INVALID_ID_TOKEN, provider, error) from error


def _failure(reason, provider, cause):
    """The failure to raise, after a log line that says what went wrong with the provider: the
    client's answer is the reason alone."""
    logger.warning("OpenID Connect provider %s: %s: %s", provider.name, reason, cause)
    return OidcFailed(reason)


def _account_for(provider, claims, meta, attempts=2):
    """The user the identity logs into, and its subject, by the linking rules (see the module's
    docstring). A new user is created, and linked, at once; a link by email waits for success."""
    subject = claims["sub"]
    identity = OidcIdentity.objects.select_related("user").filter(issuer=provider.issuer, subject=subject).first()
    if identity is not None:
        return identity.user, subject
    email = _address(claims)
    if email:
        owner = User.objects.filter(email__iexact=email).first()
        if owner is not None:
            if claims.get("email_verified") is True and owner.email_verified:
                return owner, subject
            raise OidcFailed(OidcFailed.EMAIL_NOT_VERIFIED, user=owner)
    try:
        with transaction.atomic():
            user = _new_user(provider, subject, email, verified=claims.get("email_verified") is True)
            OidcIdentity.objects.create(user=user, provider=provider.name, issuer=provider.issuer, subject=subject)
            audit.record(audit.EventType.REGISTER, meta, user=user, details={"provider": provider.name})
    except IntegrityError:
        if attempts == 1:
            raise
        # A concurrent login of the same identity, or someone taking the address or the
        # username, got there first: what it left decides, by the same rules.
        return _account_for(provider, claims, meta, attempts - 1)
    return user, subject


def _address(claims):
    """The ID token's email as an account would store it, or "" when it has none that is valid."""
    email = claims.get("email")
    if not isinstance(email, str):
        return ""
    email = User.objects.normalize_email(email.strip())
    return "" if address_errors(email) else email


def _new_user(provider, subject, email, verified):
    """A user for a new identity, with no usable password (tokenAuth refuses it like a wrong one)."""
    base = usernames.derived(email.rpartition("@")[0] if email else f"{provider.name}-{subject}")
    user = User(username=_available_username(base or provider.name), email=email)
    user.set_unusable_password()
    if email and verified:
        user.verified_email = email
    user.save()
    return user


def _available_username(base):
    """`base`, or `base` with a number, or with random hex, that nobody has in any spelling."""
    for suffix in ("", *map(str, range(2, 10))):
        candidate = base[: usernames.MAX_LENGTH - len(suffix)] + suffix
        if not User.objects.with_username(candidate).exists():
            return candidate
    suffix = "-" + secrets.token_hex(4)
    return base[: usernames.MAX_LENGTH - len(suffix)] + suffix
