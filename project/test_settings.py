"""Settings for the test suite: production settings with a fast hasher and a test key."""

import os

import dj_database_url

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-" + "x" * 48)
os.environ.setdefault("DJANGO_DEBUG", "0")

from project.settings import *  # noqa: E402,F403
from project.settings import sqlite_options  # noqa: E402

# Argon2 is deliberately slow; the suite hashes hundreds of passwords.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if os.environ.get("TEST_DATABASE_URL"):
    DATABASES = {"default": sqlite_options(dj_database_url.parse(os.environ["TEST_DATABASE_URL"]))}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared-cache memory: only a file honours the busy timeout that lets
    # concurrent writers (the race tests) wait for each other as they do in production.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}  # noqa: F405

if os.environ.get("REDIS_URL") and os.environ.get("PYTEST_XDIST_WORKER"):
    # Parallel workers share the one Redis database they are given: each keeps to its own keys
    # (tests/conftest.py clears only those), so one worker's rate-limit counts never reach, nor
    # get wiped under, another's tests.
    for alias in CACHES:  # noqa: F405 (the default cache and the rate-limit counters')
        CACHES[alias]["KEY_PREFIX"] = os.environ["PYTEST_XDIST_WORKER"]  # noqa: F405
    # and each hears only the task events its own tests publish.
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] += ":" + os.environ["PYTEST_XDIST_WORKER"]  # noqa: F405
