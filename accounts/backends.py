from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import Q


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
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = codenames(permissions)
        return user_obj._perm_cache
