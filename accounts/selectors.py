"""Which users a viewer may see."""

from accounts.models import User

VIEW_USER = "accounts.view_user"


def can_see_all_users(viewer_user):
    return viewer_user.is_staff or viewer_user.has_perm(VIEW_USER)


def visible_users(viewer_user):
    users = User.objects.all()
    return users if can_see_all_users(viewer_user) else users.filter(pk=viewer_user.pk)
