"""OIDC_PROVIDERS and OIDC_REDIRECT_URIS are read and checked when the settings are, so a provider
the server must not talk to stops it at start (API.md section 15)."""

import json
import os
import runpy
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from accounts.oidc_providers import Provider, checked_redirect_uris, configured_providers

SETTINGS_FILE = str(settings.BASE_DIR / "project" / "settings.py")
SECRET = "a-client-secret-nobody-may-see"


def provider(**fields):
    return {"name": "acme", "issuer": "https://id.acme.example", "client_id": "app", "client_secret": SECRET, **fields}


def refusal(value):
    with pytest.raises(ImproperlyConfigured) as refused:
        configured_providers(value)
    message = str(refused.value)
    assert SECRET not in message
    return message


def test_no_providers_by_default():
    assert configured_providers("") == ()


def test_a_provider_gets_the_default_scopes_and_openid_is_always_asked_for():
    (default,) = configured_providers(json.dumps([provider()]))
    assert default == Provider("acme", "https://id.acme.example", "app", SECRET, ("openid", "email", "profile"))
    (narrow,) = configured_providers(json.dumps([provider(scopes=["email", "email"])]))
    assert narrow.scopes == ("openid", "email")


@pytest.mark.parametrize(
    "issuer",
    ["http://127.0.0.1:8080/o", "http://127.5.6.7/o", "http://localhost:9000", "http://[::1]:9000/realms/test"],
)
def test_http_issuers_are_accepted_on_loopback_hosts(issuer):
    assert configured_providers(json.dumps([provider(issuer=issuer)]))[0].issuer == issuer


@pytest.mark.parametrize(
    "issuer", ["http://id.acme.example", "http://10.0.0.5/o", "http://localhost.acme.example", "http://0.0.0.0/o"]
)
def test_any_other_http_issuer_is_refused(issuer):
    assert "an http:// issuer is accepted only on a loopback host" in refusal(json.dumps([provider(issuer=issuer)]))


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("not json", "OIDC_PROVIDERS must be a JSON list"),
        (json.dumps(provider()), "OIDC_PROVIDERS must be a JSON list"),
        (json.dumps(["acme"]), "provider 1 must be an object"),
        (json.dumps([provider(client_secret="")]), "provider 1 needs 'client_secret'"),
        (json.dumps([provider(clientId="x")]), "provider 1 has unknown keys: clientId"),
        (json.dumps([provider(name="acme corp")]), "a name is 1 to 50 letters"),
        (json.dumps([provider(scopes="openid email")]), "scopes must be a list of strings"),
        (json.dumps([provider(issuer="id.acme.example")]), "the issuer must be an https:// URL"),
        (json.dumps([provider(issuer="https://id.acme.example/?tenant=1")]), "no query or fragment"),
        (json.dumps([provider(issuer="https://id.acme.example/" + "a" * 250)]), "at most 255 characters"),
        (json.dumps([provider(), provider(client_id="other")]), "two providers have the same name"),
    ],
)
def test_a_provider_that_cannot_work_is_refused(value, complaint):
    assert complaint in refusal(value)


def test_the_client_secret_is_not_in_the_providers_repr():
    (acme,) = configured_providers(json.dumps([provider()]))
    assert SECRET not in repr(acme)


def test_redirect_uris_must_be_absolute_without_a_fragment():
    uris = ["https://app.example.com/callback", "http://localhost:5173/callback", "com.example.app:/oauth2redirect"]
    assert checked_redirect_uris(uris) == tuple(uris)
    for uri in ("/callback", "https://app.example.com/callback#done"):
        with pytest.raises(ImproperlyConfigured, match="OIDC_REDIRECT_URIS"):
            checked_redirect_uris([uri])


def test_the_settings_read_the_variables(monkeypatch):
    monkeypatch.setenv("DJANGO_DEBUG", "0")
    monkeypatch.setenv("DJANGO_SECRET_KEY", "a-production-secret-that-is-long-and-random-0123456789abcdef")
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps([provider()]))
    monkeypatch.setenv("OIDC_REDIRECT_URIS", "https://app.example.com/callback, https://app.example.com/other")
    monkeypatch.setenv("OIDC_RATE_LIMIT", "7/m")
    read = runpy.run_path(SETTINGS_FILE)
    assert [each.name for each in read["OIDC_PROVIDERS"]] == ["acme"]
    assert read["OIDC_REDIRECT_URIS"] == ("https://app.example.com/callback", "https://app.example.com/other")
    assert read["OIDC_RATE_LIMIT"] == "7/m"


def test_a_plain_http_issuer_elsewhere_stops_the_server_at_start():
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "OIDC_"))}
    environment.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="a-production-secret-that-is-long-and-random-0123456789abcdef",
        OIDC_PROVIDERS=json.dumps([provider(issuer="http://id.acme.example")]),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=environment,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert "OIDC_PROVIDERS: provider 1 (acme): an http:// issuer is accepted only on a loopback host" in result.stderr
    assert SECRET not in result.stderr
