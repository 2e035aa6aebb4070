"""Typed readers for the environment variables documented in the README."""

import json
import os
import re

from django.core.exceptions import ImproperlyConfigured


def env_str(name, default=""):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
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
    """A JSON object mapping "Type.field" to a list of codenames, such as {"Mutation.createTask": ["tasks.add_task"]}."""
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
