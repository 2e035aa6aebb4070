"""Roles are Django groups; a role's codenames are the group's permissions."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from accounts.backends import codenames
from accounts.exceptions import Forbidden, NotFound, ValidationFailed
from accounts.models import User
from accounts.text import is_storable


@transaction.atomic
def set_roles(actor, user_id, role_names):
    """Make `role_names` exactly the roles of the user.

    Nobody grants or removes a role holding a codename they do not hold themselves, so the right
    to change users is neither a path to more rights than the actor has nor a way to strip
    someone of rights the actor could not give back.
    """
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFound()
    wanted = set(role_names)
    roles = list(Group.objects.filter(name__in=[name for name in wanted if is_storable(name)]))
    unknown = wanted - {role.name for role in roles}
    if unknown:
        raise ValidationFailed({"roles": [f"No role is named {name!r}." for name in sorted(unknown)]})
    held = set(user.groups.values_list("pk", flat=True))
    changed = held.symmetric_difference(role.pk for role in roles)
    if changed:
        missing = codenames(Permission.objects.filter(group__in=changed)) - actor.get_all_permissions()
        if missing:
            raise Forbidden(required=missing)
    user.groups.set(roles)
    return user
