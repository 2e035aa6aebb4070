"""Production settings refuse to start insecurely and pass Django's deployment checks."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from project.env import env_email_url
from tests.keys_util import private_pem

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-production-secret-that-is-long-and-random-0123456789abcdef",
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
    "DJANGO_SECURE_SSL_REDIRECT": "1",
    "EMAIL_URL": "smtp://mailer:secret@smtp.example.com:587?tls=1",
}


def run_manage(*args, env):
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "JWT_"))}
    clean["DJANGO_SETTINGS_MODULE"] = "project.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "secret",
    [None, "", "dev-only-insecure-secret-key-do-not-use-in-production", "django-insecure-" + "a" * 50, "short"],
)
def test_production_refuses_a_missing_or_default_secret_key(secret):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
    if secret is not None:
        env["DJANGO_SECRET_KEY"] = secret
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
    if secret:
        assert secret not in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        # Any other algorithm would start the server, then fail every login with INTERNAL_SERVER_ERROR.
        *(
            ("JWT_ALGORITHM", algorithm, "JWT_ALGORITHM must be one of HS256, HS384, HS512, RS256, ES256, EdDSA")
            for algorithm in ("none", "PS256", "hs256")
        ),
        ("JWT_SIGNING_KEY", "short-key", "JWT_SIGNING_KEY must be at least 32 characters"),
        ("JWT_SESSION_MAX_LIFETIME", "0", "JWT_SESSION_MAX_LIFETIME must be a positive number of seconds"),
        *(
            ("GRAPHQL_FIELD_CODENAMES", value, "GRAPHQL_FIELD_CODENAMES must be a JSON object")
            for value in ("not json", '["tasks.add_task"]', '{"Mutation.createTask": "tasks.add_task"}')
        ),
        # Every key creation would fail, or no refusal would ever be audited.
        ("API_KEY_MAX_LIFETIME", "0", "API_KEY_MAX_LIFETIME must be a positive number of seconds"),
        ("AUDIT_MAX_EVENTS_PER_MINUTE", "0", "AUDIT_MAX_EVENTS_PER_MINUTE must be at least 1"),
        ("JWT_REFRESH_GRACE_SECONDS", "-1", "JWT_REFRESH_GRACE_SECONDS must be 0 or more seconds"),
        ("JWT_REFRESH_COOKIE_SAMESITE", "none", "JWT_REFRESH_COOKIE_SAMESITE must be one of Strict, Lax, None"),
        # Every cookie login would fail when the name is set on the response.
        ("JWT_REFRESH_COOKIE_NAME", "refresh token", "JWT_REFRESH_COOKIE_NAME must be a cookie name"),
        # Mail that could never be sent, or links that could never carry their token.
        *(
            ("EMAIL_URL", value, "EMAIL_URL must look like smtp://")
            for value in ("smtps://host", "http://mail.example.com", "smtp://", "mail.example.com", "file://")
        ),
        ("EMAIL_URL", "smtp://host?tls=1&ssl=1", "EMAIL_URL takes ?tls=1 or ?ssl=1 (not both)"),
        ("EMAIL_URL", "smtp://host?starttls=1", "EMAIL_URL takes ?tls=1 or ?ssl=1"),
        ("EMAIL_URL", "smtp://host:port", "EMAIL_URL has a port that is not a number"),
        ("PASSWORD_RESET_URL", "https://app.example.com/reset", "PASSWORD_RESET_URL must contain {token} once"),
        ("EMAIL_VERIFY_URL", "https://app.example.com/verify?t={TOKEN}", "EMAIL_VERIFY_URL must contain {token}"),
        ("PASSWORD_RESET_TIMEOUT", "0", "PASSWORD_RESET_TIMEOUT and EMAIL_VERIFY_TIMEOUT must be positive"),
        ("PASSWORD_RESET_RATE_LIMIT", "5 per hour", "PASSWORD_RESET_RATE_LIMIT must look like 5/s"),
        ("WORKER_CLAIM_TIMEOUT", "0", "EMAIL_TIMEOUT and WORKER_CLAIM_TIMEOUT must be positive"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT must be one of text, json"),
        ("METRICS_ENABLED", "yes please", "METRICS_ENABLED must be 1 or 0"),
        # Traces asked for, to nowhere this server can send them.
        ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER: 'zipkin' is not one of otlp, console, none"),
        # TOTP secrets could be neither stored nor read.
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key", "FIELD_ENCRYPTION_KEYS: key 1 is not a Fernet key"),
    ],
)
def test_a_value_the_server_cannot_use_stops_it_at_startup(variable, value, complaint):
    result = run_manage("check", env={**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    assert complaint in result.stderr


def test_traces_over_a_protocol_that_is_not_installed_stop_the_server_at_startup():
    environment = {
        **PRODUCTION_ENV,
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    }
    result = run_manage("check", env=environment)
    assert result.returncode != 0
    assert "OTEL_EXPORTER_OTLP_PROTOCOL: only http/protobuf is installed, not 'grpc'" in result.stderr


@pytest.mark.parametrize(
    ("env", "complaint"),
    [
        # Browsers drop a SameSite=None cookie without Secure, which plain HTTP in DEBUG would send.
        ({"DJANGO_DEBUG": "1", "JWT_REFRESH_COOKIE_SAMESITE": "None"}, "JWT_REFRESH_COOKIE_SAMESITE=None needs"),
        # Any site could then read answers sent with the user's cookie.
        (
            {**PRODUCTION_ENV, "CORS_ALLOW_CREDENTIALS": "1", "CORS_ALLOWED_ORIGINS": "*"},
            "CORS_ALLOW_CREDENTIALS=1 needs CORS_ALLOWED_ORIGINS to list origins",
        ),
    ],
)
def test_a_cookie_setting_that_would_be_unsafe_stops_the_server(env, complaint):
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_cross_site_cookies_and_credentialed_origins_start_in_production():
    env = {
        **PRODUCTION_ENV,
        "JWT_REFRESH_COOKIE_SAMESITE": "None",
        "CORS_ALLOW_CREDENTIALS": "1",
        "CORS_ALLOWED_ORIGINS": "https://app.example.com",
    }
    result = run_manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_a_weak_signing_key_stops_the_server_and_a_good_one_starts_it(tmp_path):
    weak, good = tmp_path / "weak.pem", tmp_path / "good.pem"
    weak.write_text(private_pem("RSA-1024"))
    good.write_text(private_pem("RSA-2048"))

    refused = run_manage("check", env={**PRODUCTION_ENV, "JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEYS": f"@{weak}"})
    assert refused.returncode != 0
    assert "JWT_PRIVATE_KEYS: key 1 is an RSA key of 1024 bits; RS256 needs at least 2048 bits." in refused.stderr
    assert private_pem("RSA-1024").splitlines()[1] not in refused.stderr

    started = run_manage("check", env={**PRODUCTION_ENV, "JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEYS": f"@{good}"})
    assert started.returncode == 0, started.stderr


def test_an_operator_requires_codenames_for_fields_through_the_environment():
    configured = '{"Mutation.createTask": ["tasks.add_task"], "Task.description": ["tasks.view_task"]}'
    print_setting = "from django.conf import settings; print(sorted(settings.GRAPHQL_FIELD_CODENAMES.items()))"
    result = run_manage(
        "shell", "--no-imports", "-c", print_setting, env={**PRODUCTION_ENV, "GRAPHQL_FIELD_CODENAMES": configured}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        [("Mutation.createTask", ["tasks.add_task"]), ("Task.description", ["tasks.view_task"])]
    )
    unset = run_manage("shell", "--no-imports", "-c", print_setting, env=PRODUCTION_ENV)
    assert unset.stdout.strip() == "[]"


def test_check_deploy_passes_with_production_like_environment():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_email_url_outside_debug_the_server_warns_that_mail_waits():
    environment = {key: value for key, value in PRODUCTION_ENV.items() if key != "EMAIL_URL"}
    result = run_manage("check", env=environment)
    assert result.returncode == 0, result.stderr
    assert "accounts.W003" in result.stderr and "EMAIL_URL is not set" in result.stderr

    worker = run_manage("worker", "--batch", env=environment)
    assert worker.returncode != 0
    assert "EMAIL_URL is not set" in worker.stderr


@pytest.mark.parametrize(
    "url, expected",
    [
        ("console://", {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}),
        ("file:///var/mail/app", {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                                  "EMAIL_FILE_PATH": "/var/mail/app"}),
        ("smtp://mail.example.com", {"EMAIL_HOST": "mail.example.com", "EMAIL_PORT": 25, "EMAIL_HOST_USER": "",
                                     "EMAIL_HOST_PASSWORD": "", "EMAIL_USE_TLS": False, "EMAIL_USE_SSL": False}),
        ("smtp://me%40example.com:p%40ss%3Aw@Mail.Example.com:2525?tls=1",
         {"EMAIL_HOST": "mail.example.com", "EMAIL_PORT": 2525, "EMAIL_HOST_USER": "me@example.com",
          "EMAIL_HOST_PASSWORD": "p@ss:w", "EMAIL_USE_TLS": True, "EMAIL_USE_SSL": False}),
        ("smtp://mail.example.com?tls=1", {"EMAIL_PORT": 587, "EMAIL_USE_TLS": True}),
        ("smtp://mail.example.com?ssl=1", {"EMAIL_PORT": 465, "EMAIL_USE_SSL": True, "EMAIL_USE_TLS": False}),
    ],
)  # fmt: skip
def test_email_url_names_the_transport(monkeypatch, url, expected):
    monkeypatch.setenv("EMAIL_URL", url)
    parsed = env_email_url("EMAIL_URL")
    assert {key: parsed[key] for key in expected} == expected
    if url.startswith("smtp"):
        assert parsed["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"


def test_the_smtp_password_is_in_no_setting_but_email_host_password():
    """DEBUG's error page lists the settings, hiding only those whose names look secret (PASS...)."""
    holding = (
        "from django.conf import settings; "
        "print([n for n in dir(settings) if n.isupper() and 'hunter2' in str(getattr(settings, n))])"
    )
    environment = {**PRODUCTION_ENV, "EMAIL_URL": "smtp://me:hunter2@mail.example.com"}
    result = run_manage("shell", "--no-imports", "-c", holding, env=environment)
    assert result.stdout.strip() == "['EMAIL_HOST_PASSWORD']", result.stderr


def test_development_runs_without_a_secret_key():
    result = run_manage("check", env={"DJANGO_DEBUG": "1"})
    assert result.returncode == 0, result.stderr


def test_the_execution_shortcut_can_be_turned_off():
    """GRAPHQL_EXECUTION_SHORTCUT=0 falls back to graphql-core's execution of every field (after an
    upgrade that breaks the internals the shortcut overrides, tests/test_library_internals.py)."""
    print_executor = "from schema.schema import schema; print(schema.execution_context_class.__name__)"
    default = run_manage("shell", "--no-imports", "-c", print_executor, env=PRODUCTION_ENV)
    assert default.stdout.strip() == "PlainFieldShortcut", default.stderr
    off = run_manage(
        "shell", "--no-imports", "-c", print_executor, env={**PRODUCTION_ENV, "GRAPHQL_EXECUTION_SHORTCUT": "0"}
    )
    assert off.stdout.strip() == "BudgetedExecution", off.stderr
