import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class User(AbstractUser):
    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                condition=~Q(email=""),
            )
        ]


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
    # Where the use recorded in last_used_at came from, so the owner can spot a key used elsewhere.
    last_used_ip = models.GenericIPAddressField(null=True, blank=True)
    # Every key expires, at most settings.API_KEY_MAX_LIFETIME after it was created.
    expires_at = models.DateTimeField()
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
