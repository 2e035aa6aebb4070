from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import sessions
from accounts.models import User


@receiver(post_save, sender=User)
def revoke_sessions_of_deactivated_user(sender, instance, **kwargs):
    if not instance.is_active:
        sessions.revoke_all_sessions(instance)
