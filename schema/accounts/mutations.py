from typing import Annotated

import strawberry

from accounts import login, passwords, registration, sessions
from accounts.codenames import CHANGE_USER
from accounts.roles import set_roles
from schema.accounts import refresh_cookie
from schema.accounts.types import RegisterPayload, RevokePayload, TokenPayload, User
from schema.permissions import AllowAny, HasCodenames, IsTokenLogin, authenticated_user, protected_mutation
from schema.relay import parse_pk, to_global_id


@strawberry.input(description="A new account.")
class RegisterInput:
    username: str = strawberry.field(description="150 characters or fewer: letters, digits and @/./+/-/_.")
    email: str = strawberry.field(description="A valid email address, unique ignoring case.")
    password: str = strawberry.field(description="Checked by the password validators; at most 128 characters.")
    password_confirm: str = strawberry.field(description="The same password again.")


def token_payload(info, pair, cookie=False):
    """The payload of a new pair; with `cookie` the refresh token goes into the cookie, not the body."""
    info.context.act_as(info, pair.user, pair.session_id)
    if cookie:
        refresh_cookie.set_cookie(info, pair.refresh, pair.refresh_expires_at)
    return TokenPayload(
        access=pair.access,
        refresh=None if cookie else pair.refresh,
        access_expires_at=pair.access_expires_at,
        refresh_expires_at=pair.refresh_expires_at,
        user=pair.user,
    )


RefreshArgument = Annotated[
    str | None,
    strawberry.argument(
        description=(
            "A refresh token from tokenAuth or refreshToken. Without it, the refresh cookie is used "
            "(a POST with Content-Type: application/json from an allowed Origin)."
        )
    ),
]
CookieArgument = Annotated[
    bool | None,
    strawberry.argument(
        description=(
            "Set the refresh token as an HttpOnly cookie and answer `refresh: null`, for browsers. "
            "The access token stays in the body."
        )
    ),
]


@strawberry.type
class AccountMutations:
    @protected_mutation(AllowAny(), description="Create an account. It does not log in.")
    def register(
        self, info: strawberry.Info, input: Annotated[RegisterInput, strawberry.argument(description="The account.")]
    ) -> RegisterPayload:
        user = registration.register(
            input.username, input.email, input.password, input.password_confirm, info.context.meta
        )
        return RegisterPayload(
            id=to_global_id("User", user.pk), username=user.username, email=user.email, date_joined=user.date_joined
        )

    @protected_mutation(AllowAny(), description="Log in with a username and password: starts a session.")
    def token_auth(
        self,
        info: strawberry.Info,
        username: Annotated[str, strawberry.argument(description="The username.")],
        password: Annotated[str, strawberry.argument(description="The password.")],
        otp: Annotated[
            str | None,
            strawberry.argument(description="A current TOTP code or an unused recovery code, when TOTP is on."),
        ] = None,
        cookie: CookieArgument = False,
    ) -> TokenPayload:
        return token_payload(info, login.log_in(username, password, info.context.meta, otp), bool(cookie))

    @protected_mutation(
        AllowAny(),
        description=(
            "Trade a refresh token (the argument, else the cookie) for a new pair; a second use revokes the "
            "session, except for a retry within the grace period, which gets the same new refresh token."
        ),
    )
    def refresh_token(
        self,
        info: strawberry.Info,
        refresh: RefreshArgument = None,
        cookie: Annotated[
            bool | None,
            strawberry.argument(
                description=(
                    "Where the new refresh token goes: true the cookie, false the body. "
                    "By default where the old one came from."
                )
            ),
        ] = None,
    ) -> TokenPayload:
        from_cookie = refresh is None
        pair = sessions.rotate(refresh_cookie.token_from_cookie(info) if from_cookie else refresh, info.context.meta)
        to_cookie = from_cookie if cookie is None else cookie
        if from_cookie and not to_cookie:
            # The cookie holds the token just consumed, which is no use to anyone any more.
            refresh_cookie.clear_cookie(info)
        return token_payload(info, pair, to_cookie)

    @protected_mutation(
        AllowAny(),
        description=(
            "Log out: revoke the session a refresh token (the argument, else the cookie) belongs to. "
            "Using the cookie also clears it."
        ),
    )
    def revoke_token(self, info: strawberry.Info, refresh: RefreshArgument = None) -> RevokePayload:
        if refresh is None:
            revoked = sessions.revoke(refresh_cookie.token_from_cookie(info), info.context.meta)
            refresh_cookie.clear_cookie(info)
        else:
            revoked = sessions.revoke(refresh, info.context.meta)
        info.context.forget_viewer()
        return RevokePayload(revoked=revoked)

    @protected_mutation(IsTokenLogin(), description="Revoke every session of the viewer; returns how many.")
    def revoke_all_tokens(self, info: strawberry.Info) -> int:
        count = sessions.revoke_all(authenticated_user(info), info.context.meta)
        info.context.forget_viewer()
        return count

    @protected_mutation(
        IsTokenLogin(), description="Change the viewer's password; revokes every session and starts a new one."
    )
    def change_password(
        self,
        info: strawberry.Info,
        old_password: Annotated[str, strawberry.argument(description="The current password.")],
        new_password: Annotated[str, strawberry.argument(description="The new password.")],
        cookie: CookieArgument = False,
    ) -> TokenPayload:
        pair = passwords.change_password(authenticated_user(info), old_password, new_password, info.context.meta)
        info.context.forget_viewer()
        return token_payload(info, pair, bool(cookie))

    @protected_mutation(
        HasCodenames(CHANGE_USER),
        description=(
            "Make the given roles exactly the user's roles. Granting or removing a role needs every codename it holds."
        ),
    )
    def set_user_roles(
        self,
        info: strawberry.Info,
        user_id: Annotated[strawberry.ID, strawberry.argument(description="The user's id.")],
        roles: Annotated[list[str], strawberry.argument(description="Names of the roles the user will have.")],
    ) -> User:
        return set_roles(authenticated_user(info), parse_pk(user_id, "User", "userId"), roles)
