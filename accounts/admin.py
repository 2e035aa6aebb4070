from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import apikeys, audit, totp
from accounts.codenames import CHANGE_API_KEY
from accounts.models import ApiKey, AuditEvent, OidcIdentity, TotpDevice, User
from accounts.request_meta import RequestMeta


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    def user_change_password(self, request, id, form_url=""):
        """Django's page to set a user's password, audited (the new password alone ends the
        user's sessions: see LoginSession.check_usable)."""
        response = super().user_change_password(request, id, form_url)
        # Django answers a password it stored with a redirect, and a refused one with the form.
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, unquote(id))
            audit.record(audit.EventType.PASSWORD_CHANGED, RequestMeta.from_request(request), user=user)
        return response


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the API creates (secrets are shown once, to their owner; events are facts)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "user", "read_only", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("read_only", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    exclude = ("secret_hash",)
    actions = ("revoke_keys",)

    @admin.action(description="Revoke selected API keys", permissions=("revoke",))
    def revoke_keys(self, request, queryset):
        meta = RequestMeta.from_request(request)
        revoked = sum(apikeys.revoke(key, meta) for key in queryset.select_related("user"))
        self.message_user(request, f"Revoked {revoked} API key(s).")

    def has_revoke_permission(self, request):
        return request.user.has_perm(CHANGE_API_KEY)


@admin.register(TotpDevice)
class TotpDeviceAdmin(ReadOnlyAdmin):
    """Staff can see who has two-factor login on and delete a device to reset it, never its secret."""

    list_display = ("user", "confirmed_at")
    list_filter = (("confirmed_at", admin.EmptyFieldListFilter),)
    search_fields = ("user__username",)
    list_select_related = ("user",)
    fields = ("user", "confirmed_at")

    def delete_model(self, request, obj):
        totp.remove(obj, RequestMeta.from_request(request))

    def delete_queryset(self, request, queryset):
        meta = RequestMeta.from_request(request)
        for device in queryset.select_related("user"):
            totp.remove(device, meta)


@admin.register(OidcIdentity)
class OidcIdentityAdmin(ReadOnlyAdmin):
    """Which provider accounts log into which user. Staff can unlink one by deleting it (a new
    link only ever comes from a login: accounts.oidc)."""

    list_display = ("user", "provider", "issuer", "subject", "created_at")
    list_filter = ("provider",)
    search_fields = ("user__username", "subject")
    list_select_related = ("user",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log can be read here, never written, edited or pruned."""

    list_display = ("created_at", "type", "username", "user", "ip", "success")
    list_filter = ("type", "success")
    # A request id from a user's report or a log line finds that request's events.
    search_fields = ("username", "ip", "request_id")
    date_hierarchy = "created_at"
    list_select_related = ("user",)

    def has_delete_permission(self, request, obj=None):
        return False
