"""HTTP endpoints of the accounts domain that are not GraphQL."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

# How long other services may cache the key set: a new key must be published at least this long
# before it signs (docs/keys.md).
JWKS_MAX_AGE = 300


@require_safe
@cache_control(public=True, max_age=JWKS_MAX_AGE)
def jwks(request):
    """The public keys that verify this server's tokens, as an RFC 7517 JWK Set."""
    return JsonResponse(settings.JWT["KEYS"].jwks())
