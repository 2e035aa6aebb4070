from itertools import chain

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


def load_all_permissions(users):
    """What PermissionBackend.get_all_permissions loads for each of `users`, kept where it keeps it,
    in three queries however many users there are (the open WebSockets of a process, at each event)."""
    pending = {user.pk: user for user in users if user.is_active and not hasattr(user, "_perm_cache")}
    if any(user.is_superuser for user in pending.values()):
        every_codename = codenames(Permission.objects.all())
    ordinary = [pk for pk, user in pending.items() if not user.is_superuser]
    for user in pending.values():
        user._perm_cache = set(every_codename) if user.is_superuser else set()
    codename_fields = ("content_type__app_label", "codename")
    granted = chain(
        Permission.objects.filter(user__in=ordinary).values_list("user", *codename_fields),
        Permission.objects.filter(group__user__in=ordinary).values_list("group__user", *codename_fields),
    )
    for user_id, app_label, codename in granted:
        pending[user_id]._perm_cache.add(f"{app_label}.{codename}")
