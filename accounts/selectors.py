"""Which users a viewer may see."""

from accounts.codenames import VIEW_USER
from accounts.models import User
from accounts.staff import is_staff
from accounts.text import containing


def can_see_all_users(viewer_user):
    return is_staff(viewer_user) or viewer_user.has_perm(VIEW_USER)


def visible_users(viewer_user):
    users = User.objects.all()
    return users if can_see_all_users(viewer_user) else users.filter(pk=viewer_user.pk)


def matching_users(users, search=None, search_fields=("username", "email")):
    """`search` matches any of `search_fields`, ignoring case; with none to search it matches nothing.

    The caller names the fields the viewer may read: matching one they may not read would
    reveal it one guess at a time.
    """
    return containing(users, search, search_fields) if search else users
