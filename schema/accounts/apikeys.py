"""API keys in the schema: the ApiKey type, the apiKeys query, createApiKey and revokeApiKey."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import relay

from accounts import apikeys, models
from schema.permissions import (
    HasVerifiedEmail,
    IsAuthenticated,
    IsTokenLogin,
    authenticated_user,
    inherit_visibility,
    protected_field,
    protected_mutation,
)
from schema.relay import ModelNode, global_id_field, parse_pk


@inherit_visibility
@strawberry.type(
    description="A credential for a service, sent as the `X-API-Key` header. Its secret is shown only at creation."
)
class ApiKey(ModelNode):
    model = models.ApiKey
    pk: relay.NodeID[int]
    _id: relay.GlobalID = global_id_field("ApiKey")
    name: str = strawberry.field(description="The owner's name for the key.")
    prefix: str = strawberry.field(description="The start of the secret, to recognise the key by; not secret itself.")
    read_only: bool = strawberry.field(description="A read-only key can run queries but no mutation.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used, to within a minute; null if never."
    )
    last_used_ip: str | None = strawberry.field(
        description=(
            "The client address of the use in lastUsedAt (recorded with it, at most once a minute); "
            "an address you do not know means someone else holds the key: revoke it."
        )
    )
    expires_at: datetime | None = strawberry.field(
        description="When the key stops working: at most API_KEY_MAX_LIFETIME (one year by default) after creation."
    )
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked; null while it is not.")

    # Only the owner sees a key; to anyone else it does not exist.
    load = staticmethod(apikeys.key_of)


@inherit_visibility
@strawberry.type(description="A new API key and its secret.")
class CreateApiKeyPayload:
    api_key: ApiKey = strawberry.field(description="The new key.")
    secret: str = strawberry.field(
        description="Send it as the `X-API-Key` header. Shown this once: only a hash of it is stored."
    )


@strawberry.type
class ApiKeyQueries:
    @protected_field(
        IsAuthenticated(), description="The viewer's API keys, newest first, revoked and expired included."
    )
    def api_keys(self, info: strawberry.Info) -> list[ApiKey]:
        return list(apikeys.keys_of(authenticated_user(info)))


@strawberry.type
class ApiKeyMutations:
    @protected_mutation(
        IsTokenLogin(),
        HasVerifiedEmail(),
        description="Create an API key for the viewer; needs the password.",
    )
    def create_api_key(
        self,
        info: strawberry.Info,
        name: Annotated[str, strawberry.argument(description="A name to recognise the key by, up to 100 characters.")],
        read_only: Annotated[
            bool | None, strawberry.argument(description="True for a key that may run queries only.")
        ] = False,
        expires_at: Annotated[
            datetime | None,
            strawberry.argument(
                description="When the key stops working (UTC); at most, and by default, API_KEY_MAX_LIFETIME from now."
            ),
        ] = None,
        password: Annotated[
            str | None, strawberry.argument(description="The viewer's current password; required.")
        ] = None,
    ) -> CreateApiKeyPayload:
        key, secret = apikeys.create(
            authenticated_user(info), name, bool(read_only), expires_at, password, info.context.meta
        )
        return CreateApiKeyPayload(api_key=key, secret=secret)

    @protected_mutation(
        IsTokenLogin(),
        description="Revoke one of the viewer's keys at once; revoking it again changes nothing.",
    )
    def revoke_api_key(
        self,
        info: strawberry.Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="Global id of one of the viewer's keys.")],
    ) -> ApiKey:
        return apikeys.revoke_own(authenticated_user(info), parse_pk(id, "ApiKey"), info.context.meta)
