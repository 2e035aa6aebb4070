"""Typed readers for the environment variables documented in the README."""

import json
import os
import re
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return env_bool_value(name, raw)


def env_bool_value(name, raw):
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1 or 0, got {raw!r}")


def env_int(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_choice(name, default, choices):
    """One of `choices`, spelled exactly as listed."""
    raw = os.environ.get(name) or default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def env_field_codenames(name):
    """A JSON object mapping "Type.field" to a list of codenames, such as
    {"Mutation.createTask": ["tasks.add_task"]}."""
    try:
        value = json.loads(os.environ.get(name) or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(codenames, list) and all(isinstance(codename, str) for codename in codenames)
        for codenames in value.values()
    ):
        raise ImproperlyConfigured(
            f'{name} must be a JSON object of lists of codenames, like {{"Mutation.createTask": ["tasks.add_task"]}}'
        )
    return value


RATE_PATTERN = re.compile(r"^(\d+)/([smh])$")


def env_rate(name, default):
    """A rate such as "5/m": at most N events per second, minute or hour."""
    raw = os.environ.get(name) or default
    if not RATE_PATTERN.match(raw.strip()):
        raise ImproperlyConfigured(f"{name} must look like 5/s, 5/m or 5/h, got {raw!r}")
    return raw.strip()


def env_email_url(name, default=""):
    """Django's email settings from a URL: `smtp://user:password@host:port` (`?tls=1` for
    STARTTLS, `?ssl=1` for implicit TLS), `console://` or `file:///folder`. {} when unset."""
    raw = os.environ.get(name) or default
    if not raw:
        return {}
    url = urlsplit(raw)
    options = {key: env_bool_value(f"{name} option {key}", value) for key, value in parse_qsl(url.query)}
    if url.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if url.scheme == "file" and url.path:
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": url.path}
    if url.scheme != "smtp" or not url.hostname:
        raise ImproperlyConfigured(
            f"{name} must look like smtp://user:password@host:port, console:// or file:///folder"
        )
    unknown = set(options) - {"tls", "ssl"}
    if unknown or (options.get("tls") and options.get("ssl")):
        raise ImproperlyConfigured(f"{name} takes ?tls=1 or ?ssl=1 (not both), got {url.query!r}")
    try:
        port = url.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a port that is not a number") from None
    use_ssl, use_tls = options.get("ssl", False), options.get("tls", False)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": url.hostname,
        "EMAIL_PORT": port or (465 if use_ssl else 587 if use_tls else 25),
        "EMAIL_HOST_USER": unquote(url.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(url.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
    }


def env_link_template(name, default):
    """A URL with `{token}` where a mailed link puts its token."""
    raw = os.environ.get(name) or default
    if raw.count("{token}") != 1:
        raise ImproperlyConfigured(
            f"{name} must contain {{token}} once, like https://app.example.com/reset?token={{token}}"
        )
    return raw


def env_pem_list(name):
    """PEM texts: the PEM itself, or comma-separated `@/path/to/file.pem` items (PEM has no commas)."""
    texts = []
    for item in env_list(name):
        if not item.startswith("@"):
            texts.append(item)
            continue
        try:
            with open(item[1:], encoding="ascii") as file:
                texts.append(file.read())
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not a text file"
            raise ImproperlyConfigured(f"{name}: cannot read {item[1:]}: {reason}") from None
    return texts


def otel_traces_requested():
    """Whether OpenTelemetry's standard variables ask for traces: an exporter named in
    OTEL_TRACES_EXPORTER (other than `none`) or an OTLP endpoint, unless OTEL_SDK_DISABLED=true."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporters = {name.strip() for name in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",") if name.strip()}
    if exporters:
        return exporters != {"none"}
    return any(os.environ.get(name) for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
