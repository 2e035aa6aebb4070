from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Exists, Q


def permissions_of(user):
    """The Permission rows a user holds, directly or through roles (every one for a superuser)."""
    if not user.is_active:
        return Permission.objects.none()
    permissions = Permission.objects.all()
    if not user.is_superuser:
        permissions = permissions.filter(Q(user=user) | Q(group__user=user))
    return permissions


def holding_any(user, codenames):
    """A condition for a query: the user holds one of `codenames`, as `user.has_perm` answers.

    For a rule that a query decides together with what it reads, without loading the
    user's codenames first.
    """
    named = Q()
    for codename in codenames:
        app_label, name = codename.split(".", 1)
        named |= Q(content_type__app_label=app_label, codename=name)
    return Exists(permissions_of(user).filter(named))


def codenames(permissions):
    """"app_label.codename" of each permission in a Permission queryset."""
    return {
        f"{app_label}.{codename}"
        for app_label, codename in permissions.values_list("content_type__app_label", "codename").distinct()
    }


class PermissionBackend(ModelBackend):
    """Django's model backend, loading a user's codenames (direct and through roles) in one query.

    The result is kept on the user object, so a request that checks many codenames for its
    viewer loads them once.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        # No username holds a NUL character, and PostgreSQL refuses to even compare one.
        if username is not None and "\x00" in username:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = codenames(permissions_of(user_obj))
        return user_obj._perm_cache
