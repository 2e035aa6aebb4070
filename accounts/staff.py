"""What "staff" means to every authorization rule.

Staff are users with `is_staff`, and superusers whether or not they have that flag: a superuser
holds every codename, so a rule that let holders of a codename read something but refused a
superuser because the staff flag is off would be a contradiction. Only the admin site still
asks for `is_staff` itself, to let someone log in there.
"""


def is_staff(user):
    return user.is_active and (user.is_staff or user.is_superuser)
