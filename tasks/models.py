from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models


class Task(models.Model):
    TITLE_MAX_LENGTH = 200
    DESCRIPTION_MAX_LENGTH = 10_000

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    description = models.TextField(blank=True, default="", validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)])
    completed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # One index per order of the owner's list (the primary key breaks ties in each).
        indexes = [
            models.Index(fields=["owner", "created_at", "id"], name="task_owner_created"),
            models.Index(fields=["owner", "updated_at", "id"], name="task_owner_updated"),
            models.Index(fields=["owner", "title", "id"], name="task_owner_title"),
        ]

    def __str__(self):
        return self.title
