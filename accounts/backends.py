from weakref import WeakKeyDictionary

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db import connections, router
from django.db.models import Q


def codenames(permissions):
    """ "app_label.codename" of each permission in a Permission queryset."""
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
            if user_obj.is_superuser:
                user_obj._perm_cache = codenames(Permission.objects.all())
            else:
                user_obj._perm_cache = HELD_CODENAMES.of(user_obj.pk)
        return user_obj._perm_cache


class HeldCodenames:
    """The codenames one user holds, directly or through a role, by the ORM's query for them
    compiled once per connection.

    A request asks this for its viewer at most once (the answer is kept on the user). Built as a
    queryset, the question cost about 0.3 ms of Python to build and compile each time, where
    running its SQL takes a few hundredths of that; the SQL is the same for every user but for
    the user's id, so the ORM compiles it once for a stand-in id and each user's question runs
    that SQL with its own id.
    """

    # An id no user has, which the compiled parameters hold wherever the user's id goes.
    STAND_IN_ID = -7_340_033

    def __init__(self):
        self._compiled = WeakKeyDictionary()  # {connection: (sql, parameters)}

    def of(self, user_id):
        """{"app_label.codename", ...} of the user with this id."""
        alias = router.db_for_read(Permission)
        connection = connections[alias]
        statement = self._compiled.get(connection)
        if statement is None:
            statement = self._compiled[connection] = self._compile(alias)
        sql, parameters = statement
        with connection.cursor() as cursor:
            cursor.execute(sql, [user_id if parameter == self.STAND_IN_ID else parameter for parameter in parameters])
            return {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}

    def _compile(self, alias):
        held = Permission.objects.order_by().filter(Q(user=self.STAND_IN_ID) | Q(group__user=self.STAND_IN_ID))
        compiler = held.values_list("content_type__app_label", "codename").distinct().query.get_compiler(using=alias)
        sql, parameters = compiler.as_sql()
        selected = [expression for expression, _, _ in compiler.select]
        # The user's id twice (the direct grant, the role's) and nothing else; text columns that
        # need no converting.
        if list(parameters) != [self.STAND_IN_ID] * 2 or compiler.get_converters(selected):
            raise RuntimeError(
                f"Django compiled {sql!r} with {list(parameters)!r}, unlike what HeldCodenames expects: "
                "see tests/test_library_internals.py."
            )
        return sql, tuple(parameters)


HELD_CODENAMES = HeldCodenames()


def load_codenames(users):
    """Load the codenames of many users at once, as get_all_permissions would one by one (it then
    finds them on each user): one query for those of the active users that are not superusers,
    one more for every codename when some are superusers."""
    pending = [user for user in users if user.is_active and not hasattr(user, "_perm_cache")]
    every_codename = codenames(Permission.objects.all()) if any(user.is_superuser for user in pending) else set()
    ordinary = [user.pk for user in pending if not user.is_superuser]
    held = {}
    if ordinary:
        fields = ("content_type__app_label", "codename")
        # No ORDER BY (Permission's Meta has one): a UNION takes none in its parts.
        permissions = Permission.objects.order_by()
        direct = permissions.filter(user__in=ordinary).values_list("user__id", *fields)
        through_roles = permissions.filter(group__user__in=ordinary).values_list("group__user__id", *fields)
        for user_id, app_label, codename in direct.union(through_roles):
            held.setdefault(user_id, set()).add(f"{app_label}.{codename}")
    for user in pending:
        user._perm_cache = every_codename if user.is_superuser else held.get(user.pk, set())
