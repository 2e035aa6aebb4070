"""Browser-facing security (docs/security.md): CORS, security headers, deploy checks."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings

ORIGIN = "https://app.example.com"
QUERY = b'{"query": "{ __typename }"}'


@pytest.fixture(autouse=True)
def allowed_origin():
    with override_settings(CORS_ALLOWED_ORIGINS=[ORIGIN]):
        yield


def preflight(client, origin, headers="authorization, x-api-key, content-type"):
    return client.options(
        "/graphql/",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_preflight_from_an_allowed_origin_allows_the_credential_headers(client):
    response = preflight(client, ORIGIN)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    allowed = {header.strip() for header in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "x-api-key", "content-type"} <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_request_from_an_allowed_origin_gets_cors_headers(client):
    response = client.post("/graphql/", QUERY, content_type="application/json", HTTP_ORIGIN=ORIGIN)
    assert response["Access-Control-Allow-Origin"] == ORIGIN


def test_an_unlisted_origin_gets_no_cors_headers(client):
    for response in (
        preflight(client, "https://evil.example.net"),
        client.post("/graphql/", QUERY, content_type="application/json", HTTP_ORIGIN="https://evil.example.net"),
    ):
        assert not any(header.lower().startswith("access-control-") for header in response.headers)


def test_no_origin_is_allowed_by_default_outside_debug():
    assert settings_value("CORS_ALLOWED_ORIGINS", production_env()) == "[]"


def test_credentials_are_off_unless_the_operator_turns_them_on():
    assert settings_value("CORS_ALLOW_CREDENTIALS", production_env()) == "False"
    turned_on = production_env(CORS_ALLOW_CREDENTIALS="1", CORS_ALLOWED_ORIGINS=ORIGIN)
    assert settings_value("CORS_ALLOW_CREDENTIALS", turned_on) == "True"


@override_settings(CORS_ALLOW_CREDENTIALS=True)
def test_with_credentials_on_only_the_listed_origins_may_send_the_cookie(client):
    assert preflight(client, ORIGIN)["Access-Control-Allow-Credentials"] == "true"
    refused = preflight(client, "https://evil.example.net")
    assert not any(header.lower().startswith("access-control-") for header in refused.headers)


def test_security_headers_are_sent(client):
    response = client.post("/graphql/", QUERY, content_type="application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_hsts_is_sent_over_https_outside_debug(client):
    response = client.post("/graphql/", QUERY, content_type="application/json", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "Strict-Transport-Security" not in client.post("/graphql/", QUERY, content_type="application/json")


@override_settings(SECURE_SSL_REDIRECT=True)
def test_plain_http_is_redirected_when_asked(client):
    response = client.post("/graphql/", QUERY, content_type="application/json")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def settings_value(name, env):
    code = f"import django; django.setup(); from django.conf import settings; print(settings.{name})"
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "project.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def production_env(**overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "GRAPHQL", "CORS"))}
    env.update(
        {
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "api.example.com",
            "DJANGO_SECURE_SSL_REDIRECT": "1",
            "DJANGO_SETTINGS_MODULE": "project.settings",
            **overrides,
        }
    )
    return env


def test_the_environment_switches_are_read():
    env = production_env(DJANGO_SECURE_HSTS_SECONDS="600")
    assert settings_value("SECURE_SSL_REDIRECT", env) == "True"
    assert settings_value("SECURE_SSL_REDIRECT", production_env(DJANGO_SECURE_SSL_REDIRECT="0")) == "False"
    assert settings_value("SECURE_HSTS_SECONDS", env) == "600"
    assert settings_value("SECURE_HSTS_SECONDS", production_env(DJANGO_DEBUG="1")) == "0"
