"""Two-factor login in the schema: setupTotp, confirmTotp and disableTotp (tokenAuth takes `otp`)."""

from typing import Annotated

import strawberry

from accounts import totp
from schema.permissions import IsTokenLogin, authenticated_user, inherit_visibility, protected_mutation


@inherit_visibility
@strawberry.type(description="A pending TOTP secret: add it to an authenticator app, then call confirmTotp.")
class TotpSetupPayload:
    secret: str = strawberry.field(description="The shared secret in base32, for typing into an app by hand.")
    provisioning_uri: str = strawberry.field(description="The otpauth:// URI of the secret; the QR code holds it.")
    qr_code_svg: str = strawberry.field(description="The provisioning URI as a QR code: an SVG document.")


@inherit_visibility
@strawberry.type(description="Two-factor login is on.")
class TotpConfirmPayload:
    recovery_codes: list[str] = strawberry.field(
        description="Ten codes that each stand in once for the app at tokenAuth or disableTotp; shown only now."
    )


CodeArgument = Annotated[str, strawberry.argument(description="A current six-digit code from the authenticator app.")]


@strawberry.type
class TotpMutations:
    @protected_mutation(
        IsTokenLogin(),
        description="Start turning two-factor login on: a new pending secret. Refused while it is on.",
    )
    def setup_totp(self, info: strawberry.Info) -> TotpSetupPayload:
        return totp.setup(authenticated_user(info))

    @protected_mutation(
        IsTokenLogin(),
        description=(
            "Turn two-factor login on with a code from the app and the viewer's password; returns single-use "
            "recovery codes. Refused while it is on."
        ),
    )
    def confirm_totp(
        self,
        info: strawberry.Info,
        code: CodeArgument,
        password: Annotated[
            str | None,
            strawberry.argument(description="The viewer's current password; required, checked before the code."),
        ] = None,
    ) -> TotpConfirmPayload:
        recovery_codes = totp.confirm(authenticated_user(info), code, password, info.context.meta)
        return TotpConfirmPayload(recovery_codes=recovery_codes)

    @protected_mutation(IsTokenLogin(), description="Turn two-factor login off; needs the password and a code.")
    def disable_totp(
        self,
        info: strawberry.Info,
        password: Annotated[str, strawberry.argument(description="The viewer's password.")],
        code: Annotated[
            str, strawberry.argument(description="A current code from the app, or an unused recovery code.")
        ],
    ) -> bool:
        return totp.disable(authenticated_user(info), password, code, info.context.meta)
