import hmac
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import hashers
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from accounts import usernames
from accounts.crypto import EncryptedTextField
from accounts.digests import digest
from accounts.exceptions import Unauthenticated

USERNAME_TAKEN = "A user with that username already exists."


class UserQuerySet(models.QuerySet):
    def with_username(self, username):
        """The user (at most one) whose username is `username` in any spelling."""
        return self.filter(canonical_username=usernames.canonical(username))

    def update(self, **fields):
        if "username" in fields and "canonical_username" not in fields:  # bulk_update passes both
            fields.update(_username_fields(fields["username"]))
        if "is_active" not in fields:
            return super().update(**fields)
        # An update skips save() and its revocation of an inactive user's sessions; without this,
        # reactivating a user deactivated by an update would bring their old sessions back.
        with transaction.atomic(using=self.db):
            count = super().update(**fields)
            LoginSession.objects.using(self.db).filter(user__is_active=False).revoke()
        return count

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
    # The address whose link was followed (accounts.email_addresses). The address is verified
    # while it is still this one, so a new address, however it was set (changeEmail, the admin,
    # a shell), is unverified until its own link is followed.
    verified_email = models.EmailField(blank=True, default="", editable=False)

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                condition=~Q(email=""),
            )
        ]

    @property
    def email_verified(self):
        return bool(self.email) and self.verified_email == self.email

    def sync_canonical_username(self):
        for name, value in _username_fields(self.username).items():
            setattr(self, name, value)

    def save(self, *args, **kwargs):
        self.sync_canonical_username()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "canonical_username"}
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)
            if not self.is_active:
                self.login_sessions.revoke()

    def check_password(self, raw_password):
        """Django's check, except that storing a new hash of the same password (a newer hasher,
        more iterations, a longer salt) is not a new password: the sessions follow the new hash."""

        def store_new_hash(raw_password):
            started_with = LoginSession.password_digest_of(self)
            self.set_password(raw_password)
            self._password = None
            with transaction.atomic():
                self.save(update_fields=["password"])
                self.login_sessions.filter(password_digest=started_with).update(
                    password_digest=LoginSession.password_digest_of(self)
                )

        return hashers.check_password(raw_password, self.password, store_new_hash)

    def clean(self):
        super().clean()
        # A form that already refused the username leaves none to compare.
        if self.username and User.objects.with_username(self.username).exclude(pk=self.pk).exists():
            raise ValidationError({"username": USERNAME_TAKEN})


class LoginSessionQuerySet(models.QuerySet):
    def revoke(self):
        return self.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())

    def still_working(self, user):
        """The sessions of `user` that check_usable accepts."""
        return self.filter(
            user=user,
            revoked_at__isnull=True,
            created_at__gt=timezone.now() - LoginSession.max_lifetime(),
            password_digest=LoginSession.password_digest_of(user),
        )


class LoginSession(models.Model):
    """One login: started by tokenAuth, rotated by each refresh, revoked as a whole.

    A session also ends, without being revoked, when its cap passes or when the user's password
    hash is no longer the one it started with: a new password ends every session wherever it
    was set (the admin, a shell, a management command, an UPDATE), as Django's session auth hash
    does for its own sessions.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # password_digest_of(user) when the session started.
    password_digest = models.CharField(max_length=64)

    objects = LoginSessionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "revoked_at"])]

    @staticmethod
    def max_lifetime():
        # Read on each use, so lowering the setting also ends older sessions at once.
        return timedelta(seconds=settings.JWT["SESSION_MAX_LIFETIME"])

    @property
    def expires_at(self):
        """The cap: no token of the session is valid later, however often it was refreshed.
        (JWT times are whole seconds, hence the truncation.)"""
        return self.created_at.replace(microsecond=0) + self.max_lifetime()

    @staticmethod
    def password_digest_of(user):
        """Stands for the user's password hash, which a new password (even the same one) changes.

        The hash is salted and random, so a plain digest of it gives nothing away, and unlike an
        HMAC it does not depend on SECRET_KEY: rotating that key does not end every session.
        """
        return digest(user.password)

    def check_usable(self, now=None):
        """Unauthenticated (expired or revoked) unless tokens of this session may still be used.

        Needs `user` loaded; makes no query.
        """
        if self.expires_at <= (now or timezone.now()):
            raise Unauthenticated(Unauthenticated.EXPIRED)
        if (
            self.revoked_at is not None
            or not self.user.is_active
            or not hmac.compare_digest(self.password_digest, self.password_digest_of(self.user))
        ):
            raise Unauthenticated(Unauthenticated.REVOKED)


class RefreshToken(models.Model):
    """Every refresh token issued, so that a second use of a consumed one is recognised."""

    jti = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(LoginSession, on_delete=models.CASCADE, related_name="refresh_tokens")
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    # The token its consumption issued, recorded in the same transaction: a retry within the grace
    # window is answered with this one again (accounts.sessions.rotate).
    successor = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="predecessor", editable=False
    )


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

    def is_usable(self, now):
        """Not revoked, not expired, and its owner still active. Needs `user` loaded."""
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class LinkToken(models.Model):
    """A single-use secret mailed in a link: a password reset, or the proof of an address.

    Only a digest of the secret is stored. A token is bound to the state of the account it was
    issued in (`state`: see accounts.link_tokens), so it dies when that state changes: a reset
    link when the password or the address changes, an address link when the address changes.
    """

    class Purpose(models.TextChoices):
        PASSWORD_RESET = "PASSWORD_RESET"
        EMAIL_ADDRESS = "EMAIL_ADDRESS"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="link_tokens")
    purpose = models.CharField(max_length=16, choices=Purpose.choices)
    digest = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=64)
    # The address the link was mailed to: for an address link, the address it proves.
    sent_to = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"])]


class OidcIdentity(models.Model):
    """An account at an OpenID provider (its issuer and subject), linked for good to one user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="oidc_identities")
    # The provider's configured name when the identity was linked, for User.identities.
    provider = models.CharField(max_length=50)
    issuer = models.CharField(max_length=255)
    subject = models.CharField(max_length=255)  # `sub`: at most 255 ASCII characters (OIDC Core 2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="accounts_oidc_identity_unique")]
        verbose_name = "OpenID Connect identity"
        verbose_name_plural = "OpenID Connect identities"


class OidcAuthorizationRequest(models.Model):
    """One oidcAuthorizationUrl: what its oidcLogin needs, kept here rather than with the client,
    and used once (accounts.oidc). Only a digest of the state is stored."""

    state_digest = models.CharField(max_length=64, unique=True)
    provider = models.CharField(max_length=50)
    issuer = models.CharField(max_length=255)
    redirect_uri = models.TextField()
    nonce = models.CharField(max_length=64)
    code_verifier = EncryptedTextField()  # PKCE: with the code, it is what the provider trades for tokens
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)
    # After OTP_REQUIRED or OTP_INVALID: the identity the provider vouched for, so that a retry
    # with a code needs no new round trip to the provider.
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    subject = models.CharField(max_length=255, blank=True, default="")


class TotpDevice(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = EncryptedTextField()
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
        PASSWORD_RESET = "PASSWORD_RESET"
        EMAIL_VERIFIED = "EMAIL_VERIFIED"
        EMAIL_CHANGED = "EMAIL_CHANGED"

    type = models.CharField(max_length=32, choices=Type.choices)
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="audit_events")
    username = models.CharField(max_length=150, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True, default="")
    success = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The X-Request-ID of the request that caused it (project.request_id); empty outside a request.
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["type", "-created_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]
