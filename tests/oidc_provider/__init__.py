"""A small OpenID provider for the tests: django-oauth-toolkit with OIDC on, as a separate Django
project that tests start as a real server (tests/oidc_provider/server.py).

Each registered client (an oauth2_provider Application) is named after how the provider treats
it: `honest` follows the protocol; the others break one rule on purpose (misbehaviour.py), so the
server under test meets every failure it must refuse from a real provider over real HTTP.
"""
