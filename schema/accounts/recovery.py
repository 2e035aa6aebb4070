"""Account recovery and email verification in the schema (docs/recovery.md)."""

from typing import Annotated

import strawberry

from accounts import email_addresses, recovery
from schema.permissions import AllowAny, IsAuthenticated, IsTokenLogin, authenticated_user, protected_mutation

LinkToken = Annotated[str, strawberry.argument(description="The token from the mailed link.")]


@strawberry.type
class RecoveryMutations:
    @protected_mutation(
        AllowAny(),
        description=(
            "Mail a password reset link to the address, if an active account has it. Always true, "
            "whoever has the address, and as fast either way."
        ),
    )
    def request_password_reset(
        self, info: strawberry.Info, email: Annotated[str, strawberry.argument(description="The account's address.")]
    ) -> bool:
        recovery.request_reset(email, info.context.meta)
        return True

    @protected_mutation(
        AllowAny(),
        description=(
            "Set a new password with a reset link's token. Ends every session and API key of the user; does not log in."
        ),
    )
    def reset_password(
        self,
        info: strawberry.Info,
        token: LinkToken,
        new_password: Annotated[str, strawberry.argument(description="The new password.")],
    ) -> bool:
        recovery.reset_password(token, new_password, info.context.meta)
        info.context.forget_viewer()
        return True

    @protected_mutation(
        AllowAny(), description="Follow an address link: the address it was mailed to becomes the user's, verified."
    )
    def verify_email(self, info: strawberry.Info, token: LinkToken) -> bool:
        return email_addresses.verify_email(token, info.context.meta)

    @protected_mutation(
        IsAuthenticated(),
        description="Mail the viewer a new link to verify their address; false when it is verified already.",
    )
    def resend_verification_email(self, info: strawberry.Info) -> bool:
        return email_addresses.resend_verification(authenticated_user(info), info.context.meta)

    @protected_mutation(
        IsTokenLogin(),
        description=(
            "Mail a link to a new address that makes it the viewer's when followed (verifyEmail), and a notice "
            "to the present one. Nothing changes before then."
        ),
    )
    def change_email(
        self,
        info: strawberry.Info,
        new_email: Annotated[str, strawberry.argument(description="The new address.")],
        password: Annotated[str, strawberry.argument(description="The viewer's current password.")],
    ) -> bool:
        email_addresses.change_email(authenticated_user(info), new_email, password, info.context.meta)
        return True
