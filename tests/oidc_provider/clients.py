"""The clients registered at the test provider, each named after how the provider treats it
(misbehaviour.py).

`honest` and `no-email` follow the protocol (the second just has no email to give). Every other
client meets one fault a real provider could have or an attacker could cause: the server under
test must refuse each one. Importable without the provider's settings.
"""

HONEST = "honest"
NO_EMAIL = "no-email"
EMAIL_UNVERIFIED = "email-unverified"
WRONG_NONCE = "wrong-nonce"
WRONG_AUDIENCE = "wrong-audience"
WRONG_ISSUER = "wrong-issuer"
EXPIRED = "expired"
BAD_SIGNATURE = "bad-signature"
ISSUED_BEFORE_SIGN_IN = "issued-before-sign-in"
LONG_SUBJECT = "long-subject"
TOKEN_ENDPOINT_FAILS = "token-endpoint-fails"
CLIENTS = (
    HONEST, NO_EMAIL, EMAIL_UNVERIFIED, WRONG_NONCE, WRONG_AUDIENCE, WRONG_ISSUER, EXPIRED, BAD_SIGNATURE,
    ISSUED_BEFORE_SIGN_IN, LONG_SUBJECT, TOKEN_ENDPOINT_FAILS,
)  # fmt: skip

ANOTHER_ISSUER = "https://impostor.example/o"
ANOTHER_AUDIENCE = "a-client-of-someone-else"
A_NONCE_NEVER_SENT = "a-nonce-nobody-asked-for"
