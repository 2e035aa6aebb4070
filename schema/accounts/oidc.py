"""Signing in with an OpenID Connect provider, in the schema (API.md section 15); the flow and the
linking rules are accounts.oidc's."""

from typing import Annotated

import strawberry

from accounts import oidc
from schema.accounts.mutations import CookieArgument, token_payload
from schema.accounts.types import TokenPayload
from schema.permissions import AllowAny, inherit_visibility, protected_field, protected_mutation

ProviderArgument = Annotated[str, strawberry.argument(description="The provider's name, as oidcProviders lists it.")]


@inherit_visibility
@strawberry.type(description="An OpenID Connect provider people can sign in with.")
class OidcProvider:
    name: str = strawberry.field(description="The name oidcAuthorizationUrl and oidcLogin take.")


@inherit_visibility
@strawberry.type(description="Where to send the browser to sign in at a provider.")
class OidcAuthorization:
    url: str = strawberry.field(
        description="The provider's authorization URL (code flow, PKCE S256, a fresh state and nonce): open it."
    )
    state: str = strawberry.field(
        description=(
            "The state the provider sends back with the code; oidcLogin takes it. Usable once, for 10 minutes."
        )
    )


@strawberry.type
class OidcQueries:
    @protected_field(AllowAny(), description="The OpenID Connect providers people can sign in with.")
    def oidc_providers(self) -> list[OidcProvider]:
        return [OidcProvider(name=provider.name) for provider in oidc.providers()]


@strawberry.type
class OidcMutations:
    @protected_mutation(
        AllowAny(),
        description="Start signing in with a provider: the URL to open, and the state that comes back with the code.",
    )
    def oidc_authorization_url(
        self,
        info: strawberry.Info,
        provider: ProviderArgument,
        redirect_uri: Annotated[
            str,
            strawberry.argument(
                description="Where the provider sends the browser back; exactly one of OIDC_REDIRECT_URIS."
            ),
        ],
    ) -> OidcAuthorization:
        authorization = oidc.authorization_url(provider, redirect_uri, info.context.meta)
        return OidcAuthorization(url=authorization.url, state=authorization.state)

    @protected_mutation(
        AllowAny(),
        description=(
            "Finish signing in with a provider: trades the code for the provider's ID token and starts a "
            "session, as tokenAuth does."
        ),
    )
    def oidc_login(
        self,
        info: strawberry.Info,
        provider: ProviderArgument,
        code: Annotated[str, strawberry.argument(description="The `code` the provider sent back.")],
        state: Annotated[str, strawberry.argument(description="The `state` the provider sent back.")],
        otp: Annotated[
            str | None,
            strawberry.argument(
                description=(
                    "A current TOTP code or an unused recovery code, when TOTP is on: after OTP_REQUIRED or "
                    "OTP_INVALID, send the same state again with it."
                )
            ),
        ] = None,
        cookie: CookieArgument = False,
    ) -> TokenPayload:
        return token_payload(info, oidc.login(provider, code, state, otp, info.context.meta), bool(cookie))
