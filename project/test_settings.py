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
