"""Fill the test provider's database: its users, and one client per behaviour (misbehaviour.py).

Run inside the provider's own settings (`manage.py shell`), from OidcProviderServer.populate.
"""

from django.contrib.auth.models import User
from oauth2_provider.models import Application


def populate(users, clients, redirect_uri):
    for user in users:
        User.objects.create_user(user["username"], user["email"], user["password"])
    for name, credentials in clients.items():
        Application.objects.create(
            name=name,
            client_id=credentials["client_id"],
            client_secret=credentials["client_secret"],  # stored hashed
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=redirect_uri,
            algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True,  # no consent page: the user signs in and is sent back
        )
