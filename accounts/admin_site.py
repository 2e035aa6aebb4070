"""The Django admin's own doors, with the protections of the API's.

Logging in to the admin checks credentials with the very function tokenAuth uses
(accounts.login.verify_login): the same rate-limit counters per client IP and per
username, the one-time code when two-factor login is on, LOGIN_SUCCESS and LOGIN_FAILURE
events. The admin's form to change one's own password checks the old one under the same
limit and records PASSWORD_CHANGED. project.apps.AdminConfig makes this the default site, so
`django.contrib.admin.site` is this one.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.forms import AdminPasswordChangeForm as DjangoAdminPasswordChangeForm
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from accounts import audit, login, passwords
from accounts.exceptions import InvalidCredentials, OtpInvalid, OtpRequired, RateLimited
from accounts.request_meta import RequestMeta

RATE_LIMITED = "Too many attempts. Try again in %(seconds)s seconds."


def _rate_limited(limited):
    return ValidationError(RATE_LIMITED, code="rate_limited", params={"seconds": limited.retry_after})


class AdminLoginForm(AdminAuthenticationForm):
    otp = forms.CharField(
        label="One-time code",
        required=False,
        help_text="Only with two-factor login on: a code from your authenticator app, or a recovery code.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # Usernames match in any case (accounts.usernames); Django's text says they may not.
        "invalid_login": "Please enter the correct %(username)s and password for a staff account. "
        "Note that the password is case-sensitive.",
        "otp_required": "A one-time code is required: enter a code from your authenticator app.",
    }

    @sensitive_variables("password", "otp")
    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data  # the missing field has its own error
        meta = RequestMeta.from_request(self.request)
        otp = self.cleaned_data.get("otp")
        try:
            user = login.verify_login(username, password, meta, otp=otp)
        except RateLimited as limited:
            raise _rate_limited(limited) from None
        except InvalidCredentials:
            raise self.get_invalid_login_error() from None
        except OtpRequired:
            raise ValidationError(self.error_messages["otp_required"], code="otp_required") from None
        except OtpInvalid as refused:
            raise ValidationError(refused.message, code="otp_invalid") from None
        try:
            self.confirm_login_allowed(user)  # staff only
        except ValidationError:
            audit.record(audit.EventType.LOGIN_FAILURE, meta, user=user, success=False)
            raise
        self.user_cache = user
        audit.record(audit.EventType.LOGIN_SUCCESS, meta, user=user)
        return self.cleaned_data


class AdminPasswordChangeForm(DjangoAdminPasswordChangeForm):
    def __init__(self, user, *args, meta, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.meta = meta

    @sensitive_variables("old_password")
    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        try:
            correct = passwords.check_current_password(self.user, old_password, self.meta)
        except RateLimited as limited:
            raise _rate_limited(limited) from None
        if not correct:
            raise ValidationError(self.error_messages["password_incorrect"], code="password_incorrect")
        return old_password

    def save(self, commit=True):
        user = super().save(commit)
        audit.record(audit.EventType.PASSWORD_CHANGED, self.meta, user=user)
        return user


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = AdminPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "meta": RequestMeta.from_request(self.request)}


class AdminSite(admin.AdminSite):
    login_form = AdminLoginForm
    login_template = "accounts/admin_login.html"

    def password_change(self, request, extra_context=None):
        # Django's own method, with a view whose form checks the old password under the limit.
        request.current_app = self.name
        return PasswordChangeView.as_view(
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)
