"""How the test provider treats each client (clients.py), chosen by the client's name."""

import base64
import binascii
import json
import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from jwcrypto import jwk, jwt
from oauth2_provider.models import Application
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.views import TokenView

from tests.oidc_provider.clients import (
    A_NONCE_NEVER_SENT,
    ANOTHER_AUDIENCE,
    ANOTHER_ISSUER,
    BAD_SIGNATURE,
    EMAIL_UNVERIFIED,
    EXPIRED,
    ISSUED_BEFORE_SIGN_IN,
    LONG_SUBJECT,
    NO_EMAIL,
    TOKEN_ENDPOINT_FAILS,
    WRONG_AUDIENCE,
    WRONG_ISSUER,
    WRONG_NONCE,
)


class MisbehavingValidator(OAuth2Validator):
    def get_claim_dict(self, request):
        claims = super().get_claim_dict(request)
        if request.client.name == LONG_SUBJECT:
            claims["sub"] = "s" * 256  # OpenID Connect Core allows 255 ASCII characters
        return claims

    def get_additional_claims(self, request):
        if request.client.name == NO_EMAIL:
            return {}
        return {"email": request.user.email, "email_verified": request.client.name != EMAIL_UNVERIFIED}

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expires = super().get_id_token_dictionary(token, token_handler, request)
        if request.client.name == WRONG_ISSUER:
            claims["iss"] = ANOTHER_ISSUER
        if request.client.name == EXPIRED:
            claims["exp"] = int(time.time()) - 3600
        return claims, expires

    def finalize_id_token(self, id_token, token, token_handler, request):
        # oauthlib has set aud, iat and nonce; the parent adds the rest and signs.
        if request.client.name == WRONG_NONCE:
            id_token["nonce"] = A_NONCE_NEVER_SENT
        if request.client.name == WRONG_AUDIENCE:
            id_token["aud"] = ANOTHER_AUDIENCE
        if request.client.name == EXPIRED:
            id_token["iat"] = int(time.time()) - 7200
        if request.client.name == ISSUED_BEFORE_SIGN_IN:
            id_token["iat"] = int(time.time()) - 3600  # and it expires in the future, as usual
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if request.client.name == BAD_SIGNATURE:
            return _signed_with_another_key(signed)
        return signed


def _signed_with_another_key(serialized):
    """The same header (the published key's kid) and claims, signed with a key nobody published."""
    header, claims, _ = serialized.split(".")
    forged = jwt.JWT(header=_decoded(header), claims=_decoded(claims))
    forged.make_signed_token(jwk.JWK.from_pem(settings.FORGERY_RSA_PRIVATE_KEY.encode()))
    return forged.serialize()


def _decoded(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


@csrf_exempt
def token_endpoint(request):
    """DOT's token endpoint, except for the client whose token endpoint is down."""
    if _client_name(request.headers.get("Authorization", "")) == TOKEN_ENDPOINT_FAILS:
        return HttpResponse("Service Unavailable", status=503, content_type="text/plain")
    return TokenView.as_view()(request)


def _client_name(authorization):
    """The name of the client a Basic Authorization header names, or ""."""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "basic":
        return ""
    try:
        client_id = base64.b64decode(credentials).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return Application.objects.filter(client_id=client_id).values_list("name", flat=True).first() or ""
