import uuid

from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts import usernames

USERNAME_TAKEN = "A user with that username already exists."


class UserQuerySet(models.QuerySet):
    def with_username(self, username):
        """The user (at most one) whose username is `username` in any spelling."""
        return self.filter(canonical_username=usernames.canonical(username))

    def update(self, **fields):
        if "username" in fields and "canonical_username" not in fields:  # bulk_update passes both
            fields.update(_username_fields(fields["username"]))
        return super().update(**fields)

    def bulk_update(self, objs, fields, batch_size=None):
        if "username" in fields:
            objs = list(objs)
            for user in objs:
                user.sync_canonical_username()
            fields = [*fields, "canonical_username"]
        return super().bulk_update(objs, fields, batch_size=batch_size)


def _username_fields(username):
    if not isinstance(username, str):
        # An SQL expression: the database cannot fold case the way Python does.
        raise TypeError("Set usernames to plain strings, so that their canonical form can follow.")
    return {"username": usernames.normalized(username), "canonical_username": usernames.canonical(username)}


class UserManager(DjangoUserManager.from_queryset(UserQuerySet)):
    def get_by_natural_key(self, username):
        # Used by the authentication backend: a login finds the account in any spelling.
        return self.with_username(username).get()

    async def aget_by_natural_key(self, username):
        return await self.with_username(username).aget()


class User(AbstractUser):
    # Kept in step with `username` by save() and by the queryset's update and bulk_update;
    # case folding at most doubles the length of an NFKC username of 150 characters.
    canonical_username = models.CharField(max_length=300, unique=True, editable=False)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                condition=~Q(email=""),
            )
        ]

    def sync_canonical_username(self):
        for name, value in _username_fields(self.username).items():
            setattr(self, name, value)

    def save(self, *args, **kwargs):
        self.sync_canonical_username()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "canonical_username"}
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        # A form that already refused the username leaves none to compare.
        if self.username and User.objects.with_username(self.username).exclude(pk=self.pk).exists():
            raise ValidationError({"username": USERNAME_TAKEN})


class LoginSession(models.Model):
    """One login: started by tokenAuth, rotated by each refresh, revoked as a whole."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class RefreshToken(models.Model):
    """Every refresh token issued, so that a second use of a consumed one is recognised."""

    jti = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(LoginSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)


class ApiKey(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=32, unique=True)
    secret_hash = models.CharField(max_length=128)
    read_only = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name} ({self.prefix})"


class TotpDevice(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = models.CharField(max_length=64)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_used_step = models.BigIntegerField(null=True, blank=True)

    @property
    def is_confirmed(self):
        return self.confirmed_at is not None


class RecoveryCode(models.Model):
    device = models.ForeignKey(TotpDevice, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)


class AuditEvent(models.Model):
    class Type(models.TextChoices):
        REGISTER = "REGISTER"
        LOGIN_SUCCESS = "LOGIN_SUCCESS"
        LOGIN_FAILURE = "LOGIN_FAILURE"
        RATE_LIMITED = "RATE_LIMITED"
        TOKEN_REFRESH = "TOKEN_REFRESH"
        TOKEN_REUSE_DETECTED = "TOKEN_REUSE_DETECTED"
        TOKEN_REVOKED = "TOKEN_REVOKED"
        ALL_TOKENS_REVOKED = "ALL_TOKENS_REVOKED"
        PASSWORD_CHANGED = "PASSWORD_CHANGED"
        TOTP_ENABLED = "TOTP_ENABLED"
        TOTP_DISABLED = "TOTP_DISABLED"
        OTP_FAILURE = "OTP_FAILURE"
        API_KEY_CREATED = "API_KEY_CREATED"
        API_KEY_REVOKED = "API_KEY_REVOKED"
        PERMISSION_DENIED = "PERMISSION_DENIED"

    type = models.CharField(max_length=32, choices=Type.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    username = models.CharField(max_length=150, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    success = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["type", "-created_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]
