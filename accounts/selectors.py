"""Which users a viewer may see."""

from django.db.models import Q

from accounts.models import User
from accounts.text import is_storable

VIEW_USER = "accounts.view_user"


def can_see_all_users(viewer_user):
    return viewer_user.is_staff or viewer_user.has_perm(VIEW_USER)


def visible_users(viewer_user):
    users = User.objects.all()
    return users if can_see_all_users(viewer_user) else users.filter(pk=viewer_user.pk)


def matching_users(users, search=None):
    """`search` matches the username or the email, ignoring case."""
    if search:
        users = users.none() if not is_storable(search) else users.filter(
            Q(username__icontains=search) | Q(email__icontains=search)
        )
    return users
