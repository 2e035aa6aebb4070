"""Task changes, published once they commit, for live subscribers (docs/subscriptions.md).

Every save and delete of a Task (tasks.services, the admin, a shell, a cascade from a deleted
user) sends one message to the channel layer's GROUP after its transaction commits: through Redis
when REDIS_URL is set, so every server process hears it, otherwise to this process only. The
message holds a snapshot of the task, because by the time a subscriber reads it the row may have
changed again or be gone. A server process reads each message once for all its subscribers
(change_from); who may see the change is decided for each of them (tasks.selectors.may_see).
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import User
from tasks.models import Task

GROUP = "task-events"
MESSAGE_TYPE = "task.event"
CREATED, UPDATED, DELETED = "CREATED", "UPDATED", "DELETED"
_TIMES = ("created_at", "updated_at")


def snapshot(task):
    """The task's fields as the channel layer can carry them (msgpack has no datetimes)."""
    return {
        "id": task.pk,
        "owner_id": task.owner_id,
        "title": task.title,
        "description": task.description,
        "completed": task.completed,
        **{name: getattr(task, name).isoformat() for name in _TIMES},
    }


@dataclass(frozen=True)
class Change:
    kind: str
    # An unsaved Task holding the snapshot, its owner as the database holds them now.
    task: Task


def change_from(message):
    """The change a message announces, read once for every subscriber of the process (the owner
    of a task that still exists in one query)."""
    fields = message["task"]
    task = Task(**{**fields, **{name: datetime.fromisoformat(fields[name]) for name in _TIMES}})
    if message["kind"] != DELETED:
        owner = User.objects.filter(pk=task.owner_id).first()  # None once deleted, with the task
        if owner is not None:
            task.owner = owner
    return Change(message["kind"], task)


@receiver(post_save, sender=Task, dispatch_uid="tasks.events.saved")
def _saved(sender, instance, created, raw, using, **kwargs):
    if not raw:  # loaddata
        publish_on_commit(CREATED if created else UPDATED, instance, using)


@receiver(post_delete, sender=Task, dispatch_uid="tasks.events.deleted")
def _deleted(sender, instance, using, **kwargs):
    publish_on_commit(DELETED, instance, using)


def publish_on_commit(kind, task, using):
    message = {"type": MESSAGE_TYPE, "kind": kind, "task": snapshot(task)}
    # robust: the change is committed whatever happens to its announcement (Redis down, say).
    transaction.on_commit(partial(publish, message), using=using, robust=True)


def publish(message):
    async_to_sync(get_channel_layer().group_send)(GROUP, message)
