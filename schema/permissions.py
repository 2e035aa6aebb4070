"""Small composable permission rules, declared on each field where it is read.

Each rule either lets the field run or raises the contract's error itself, so the
code a client sees (UNAUTHENTICATED with a reason, FORBIDDEN with the missing
codenames) is decided next to the rule that failed. Every protected field also
gets ConfiguredCodenames, the operator's extra requirements from settings.
"""

import strawberry
from django.conf import settings
from strawberry.permission import BasePermission, PermissionExtension

from schema.errors import Forbidden, Unauthenticated


def viewer_of(info):
    return info.context.viewer_for(info)


def authenticated_user(info):
    """The viewer's user, or UNAUTHENTICATED with the reason its credential was refused."""
    viewer = viewer_of(info)
    if not viewer.is_authenticated:
        raise Unauthenticated(viewer.rejection) if viewer.rejection else Unauthenticated()
    return viewer.user


def require_codenames(user, codenames):
    missing = [codename for codename in codenames if not user.has_perm(codename)]
    if missing:
        raise Forbidden(required=missing)


class AllowAny(BasePermission):
    def has_permission(self, source, info, **kwargs):
        return True


class IsAuthenticated(BasePermission):
    def has_permission(self, source, info, **kwargs):
        authenticated_user(info)
        return True


class IsStaff(BasePermission):
    def has_permission(self, source, info, **kwargs):
        if not authenticated_user(info).is_staff:
            raise Forbidden()
        return True


class HasCodenames(BasePermission):
    def __init__(self, *codenames):
        self.codenames = codenames

    def has_permission(self, source, info, **kwargs):
        require_codenames(authenticated_user(info), self.codenames)
        return True


class IsSelfOrStaff(BasePermission):
    """For fields of User: the user themself, or staff."""

    def has_permission(self, source, info, **kwargs):
        user = authenticated_user(info)
        if user.pk != source.pk and not user.is_staff:
            raise Forbidden()
        return True


class IsSelfOrStaffOrCodename(BasePermission):
    """For fields of User: the user themself, staff, or a holder of `codename`."""

    def __init__(self, codename):
        self.codename = codename

    def has_permission(self, source, info, **kwargs):
        user = authenticated_user(info)
        if user.pk != source.pk and not user.is_staff:
            require_codenames(user, [self.codename])
        return True


class IsTokenLogin(BasePermission):
    """Authenticated by a token from tokenAuth: an API key can never manage credentials."""

    def has_permission(self, source, info, **kwargs):
        authenticated_user(info)
        if viewer_of(info).api_key is not None:
            raise Forbidden("API keys cannot manage credentials; log in with tokenAuth and use the access token.")
        return True


class NoReadOnlyKey(BasePermission):
    """Part of every mutation (see protected_mutation): a read-only API key changes nothing."""

    def has_permission(self, source, info, **kwargs):
        api_key = viewer_of(info).api_key
        if api_key is not None and api_key.read_only:
            raise Forbidden("This API key is read-only; mutations need a key that is not.")
        return True


class ConfiguredCodenames(BasePermission):
    """Codenames an operator requires for a field through settings.GRAPHQL_FIELD_CODENAMES."""

    def has_permission(self, source, info, **kwargs):
        codenames = settings.GRAPHQL_FIELD_CODENAMES.get(f"{info.path.typename}.{info.field_name}")
        if codenames:
            require_codenames(authenticated_user(info), codenames)
        return True


def _permission_extension(rules):
    return PermissionExtension([*rules, ConfiguredCodenames()], use_directives=False)


def protected_field(*rules, **field_kwargs):
    """A query or object field that runs only when every rule allows it."""
    return strawberry.field(extensions=[_permission_extension(rules)], **field_kwargs)


def protected_mutation(*rules, **field_kwargs):
    """A mutation that runs only when every rule allows it, and never for a read-only API key."""
    return strawberry.mutation(extensions=[_permission_extension((NoReadOnlyKey(), *rules))], **field_kwargs)
