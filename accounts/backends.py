from weakref import WeakKeyDictionary

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.db.models import BooleanField, Exists, Expression, Q
from django.db.models.sql import Query


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
            permissions = Permission.objects.all()
            if not user_obj.is_superuser:
                permissions = permissions.filter(Q(user=user_obj) | Q(group__user=user_obj))
            user_obj._perm_cache = codenames(permissions)
        return user_obj._perm_cache


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


def holds_any(user, codenames_wanted):
    """Whether `user` holds any of `codenames_wanted` ("app_label.codename"), as has_perm answers
    it: a boolean when the user's codenames are loaded (or need no query), else a condition for a
    query to evaluate (HoldsAny), so that the question costs no query of its own."""
    if not user.is_active or user.is_superuser or hasattr(user, "_perm_cache"):
        return any(user.has_perm(codename) for codename in codenames_wanted)
    return HoldsAny(user.pk, tuple(codenames_wanted))


def held_permissions(user, codenames_wanted):
    """The Permission rows among `codenames_wanted` that `user` holds, directly or through a role."""
    wanted = Q()
    for codename in codenames_wanted:
        app_label, _, name = codename.partition(".")
        wanted |= Q(content_type__app_label=app_label, codename=name)
    return Permission.objects.filter(Q(user=user) | Q(group__user=user)).filter(wanted)


class HoldsAny(Expression):
    """`Exists(held_permissions(user, codenames_wanted))`, its SQL compiled once per connection.

    Building that subquery and compiling it inside a page's query cost about 0.75 ms of Python per
    list (docs/performance.md), more than the rest of the page's SQL. It names no column of the
    query around it, so its SQL is the same for every user but for the user's id: the ORM compiles
    it once per connection for a stand-in id, and each query takes that SQL with its own id.
    """

    conditional = True
    output_field = BooleanField()

    # An id no user has, which the compiled parameters hold wherever the user's id goes.
    STAND_IN_ID = -7_340_033
    _compiled = WeakKeyDictionary()  # {connection: {codenames_wanted: (sql, parameters)}}

    def __init__(self, user_id, codenames_wanted):
        super().__init__()
        self.user_id = user_id
        self.codenames_wanted = codenames_wanted

    def as_sql(self, compiler, connection):
        statements = self._compiled.setdefault(connection, {})
        statement = statements.get(self.codenames_wanted)
        if statement is None:
            statement = statements[self.codenames_wanted] = self._compile(connection)
        sql, parameters = statement
        return sql, [self.user_id if parameter == self.STAND_IN_ID else parameter for parameter in parameters]

    def _compile(self, connection):
        around = Query(Permission)
        held = Exists(held_permissions(self.STAND_IN_ID, self.codenames_wanted)).resolve_expression(around)
        sql, parameters = around.get_compiler(connection=connection).compile(held)
        if list(parameters).count(self.STAND_IN_ID) != 2:  # the direct grant and the role's
            raise RuntimeError(
                f"Django compiled {sql!r} with {list(parameters)!r}, unlike what HoldsAny expects: "
                "see tests/test_library_internals.py."
            )
        return sql, tuple(parameters)
