"""Errors the domain raises. The schema layer maps each to a contract error code; where the
contract names one (UNAUTHENTICATED, FORBIDDEN, NOT_FOUND), the error has that name."""


class DomainError(Exception):
    default_message = "The request could not be completed."

    def __init__(self, message=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class ValidationFailed(DomainError):
    default_message = "Some input is not valid."

    def __init__(self, field_errors, message=None):
        super().__init__(message)
        self.field_errors = {name: list(messages) for name, messages in field_errors.items()}


class InvalidCredentials(DomainError):
    default_message = "Please enter a correct username and password."


class Unauthenticated(DomainError):
    """No usable credential: none was presented, or the token or key presented cannot be used;
    `reason` is the contract's reason code."""

    MISSING_CREDENTIALS = "missing_credentials"
    EXPIRED = "token_expired"
    INVALID = "token_invalid"
    REVOKED = "token_revoked"
    API_KEY_INVALID = "api_key_invalid"

    messages = {
        MISSING_CREDENTIALS: "Authentication is required.",
        EXPIRED: "The token has expired.",
        INVALID: "The token is not valid.",
        REVOKED: "The token has been revoked.",
        API_KEY_INVALID: "The API key is not valid.",
    }

    def __init__(self, reason=MISSING_CREDENTIALS):
        super().__init__(self.messages[reason])
        self.reason = reason


class NotFound(DomainError):
    default_message = "Not found."


class Forbidden(DomainError):
    """The viewer is known but may not do this: `required` names the codenames that would allow
    it, `reason` a refusal that has a reason code of its own (email_not_verified, csrf)."""

    default_message = "You do not have permission to do this."

    def __init__(self, message=None, required=(), reason=None):
        super().__init__(message)
        self.required = sorted(required)
        self.reason = reason


class OtpRequired(DomainError):
    """The password was right, but the account has two-factor login on and no code was sent."""

    default_message = "A one-time code is required: send `otp` with a code from your authenticator app."


class OtpInvalid(DomainError):
    """The password was right, but the one-time code is wrong, expired or already used."""

    default_message = "The one-time code is not valid or was already used."


class RateLimited(DomainError):
    default_message = "Too many attempts. Try again later."

    def __init__(self, retry_after, message=None):
        super().__init__(message)
        self.retry_after = retry_after


class OidcFailed(DomainError):
    """An OpenID Connect login could not be completed; `reason` is the contract's reason code."""

    UNKNOWN_PROVIDER = "unknown_provider"
    INVALID_STATE = "invalid_state"
    EXCHANGE_FAILED = "exchange_failed"
    INVALID_ID_TOKEN = "invalid_id_token"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    PROVIDER_UNAVAILABLE = "provider_unavailable"

    messages = {
        UNKNOWN_PROVIDER: "There is no such provider: see oidcProviders.",
        INVALID_STATE: "This sign-in is unknown, used or expired: start again with oidcAuthorizationUrl.",
        EXCHANGE_FAILED: "The provider did not accept the code: start again with oidcAuthorizationUrl.",
        INVALID_ID_TOKEN: "The provider's answer could not be verified: start again with oidcAuthorizationUrl.",
        EMAIL_NOT_VERIFIED: (
            "An account with this email address exists, but the address is not verified on both sides: "
            "log in with the password and verify the address, or ask the provider to verify it."
        ),
        PROVIDER_UNAVAILABLE: "The provider cannot be reached or is misconfigured. Try again later.",
    }

    def __init__(self, reason, user=None):
        super().__init__(self.messages[reason])
        self.reason = reason
        self.user = user  # the local account concerned, when one is (for the audit log)
