"""The production settings plus what only the comparison needs: DRF and Simple JWT (bench/requirements.txt)."""

import os
import tempfile

os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-" + "x" * 48)
os.environ["DJANGO_DEBUG"] = "0"
# One viewer sends every request of a run: past its hourly budget they would be refused, and a
# refusal costs less than an answer.
os.environ.setdefault("GRAPHQL_POINTS_PER_HOUR", "999999999")

import dj_database_url  # noqa: E402

from project.env import env_int  # noqa: E402
from project.settings import *  # noqa: E402,F403
from project.settings import (  # noqa: E402
    INSTALLED_APPS,
    PERSISTED_QUERIES_CACHE,
    RATELIMIT_USE_CACHE,
    SECRET_KEY,
    sqlite_options,
)

INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework", "rest_framework_simplejwt"]
ROOT_URLCONF = "bench.urls"
# The production settings' SQLite (WAL, connections kept for DATABASE_CONN_MAX_AGE) on a file of
# the bench's own; bench.http gives its server processes the database it seeded.
DATABASES = {
    "default": sqlite_options(
        dj_database_url.parse(
            "sqlite:///"
            + (os.environ.get("BENCH_DATABASE") or os.path.join(tempfile.mkdtemp(prefix="bench-"), "bench.sqlite3")),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    )
}
CACHES = {
    alias: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": alias}
    for alias in ("default", RATELIMIT_USE_CACHE, PERSISTED_QUERIES_CACHE)
}
ALLOWED_HOSTS = ["testserver", "127.0.0.1"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
}
SIMPLE_JWT = {"SIGNING_KEY": SECRET_KEY, "ALGORITHM": "HS256"}
