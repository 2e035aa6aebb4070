"""Settings, read from the environment (every variable is listed in the README)."""

import hashlib
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from accounts import crypto, keys, oidc_providers
from project.env import (
    env_bool,
    env_choice,
    env_email_url,
    env_field_codenames,
    env_int,
    env_link_template,
    env_list,
    env_pem_list,
    env_rate,
    env_str,
    otel_traces_requested,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

DEVELOPMENT_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
KNOWN_DEFAULT_SECRET_KEYS = {
    DEVELOPMENT_SECRET_KEY,
    "changeme",
    "change-me",
    "secret",
    "django-insecure",
}
SECRET_KEY = env_str("DJANGO_SECRET_KEY") or (DEVELOPMENT_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    not SECRET_KEY
    or SECRET_KEY in KNOWN_DEFAULT_SECRET_KEYS
    or SECRET_KEY.startswith("django-insecure")
    or len(SECRET_KEY) < 50
):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a long random value (at least 50 characters) when DJANGO_DEBUG is off."
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1"])

INSTALLED_APPS = [
    "project.apps.ProjectConfig",
    "project.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "strawberry.django",
    "django_tasks",
    "django_tasks_db",
    "accounts",
    "tasks",
    "schema",
]

MIDDLEWARE = [
    # First, so every response and log line has the request's id (docs/deployment.md).
    "project.request_id.RequestIdMiddleware",
    # /healthz, /readyz and /metrics, answered before the host check and the HTTPS redirect.
    "project.operations.OperationsEndpoints",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Searched before the apps' own templates: a folder here can replace the mails' texts.
        "DIRS": env_list("TEMPLATES_DIRS"),
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def sqlite_options(database):
    """WAL lets readers run beside a writer; IMMEDIATE avoids lock upgrades failing mid-transaction."""
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("OPTIONS", {}).update(
            {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            }
        )
    return database


DATABASES = {
    "default": sqlite_options(
        dj_database_url.parse(
            env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    )
}

# Rate-limit counters (accounts.ratelimit) have a cache of their own, which never drops a counter
# before its window ends; the default cache is for things that may be evicted.
RATELIMIT_USE_CACHE = "ratelimit"
REDIS_URL = env_str("REDIS_URL")
# Documents registered by Apollo's automatic persisted queries (schema.persisted) have a cache of
# their own too: a bounded number of entries, so filling it can neither evict a counter nor fill a
# Redis that must not evict.
PERSISTED_QUERIES_CACHE = "persisted_queries"
if REDIS_URL:
    # Redis itself must not evict them: its maxmemory-policy must be noeviction (accounts.checks).
    CACHES = {
        alias: {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        for alias in ("default", RATELIMIT_USE_CACHE, PERSISTED_QUERIES_CACHE)
    }
else:
    # The database cache is shared by every process that uses the same database,
    # so rate limits hold across gunicorn workers without extra services.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "cache_table",
        },
        RATELIMIT_USE_CACHE: {
            "BACKEND": "project.cache.CounterDatabaseCache",
            "LOCATION": "ratelimit_counters",
        },
        PERSISTED_QUERIES_CACHE: {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "persisted_queries",
            "TIMEOUT": None,
        },
    }


# Live updates (docs/subscriptions.md): task events reach the subscribers of
# every process through Redis when there is one, else those of this process only. Processes that
# share a database share its events; a Redis shared by several deployments keeps them apart.
def channel_layer_prefix(database):
    identity = "|".join(str(database.get(key) or "") for key in ("ENGINE", "NAME", "HOST", "PORT"))
    return "asgi:" + hashlib.sha256(identity.encode()).hexdigest()[:12]


if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": channel_layer_prefix(DATABASES["default"])},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["accounts.backends.PermissionBackend"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.password_validation.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic gathers the static files (GraphiQL's bundle, the admin's) for whitenoise.
STATIC_ROOT = env_str("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # collectstatic also writes a gzip copy of each file, which whitenoise sends to clients that accept it.
    # Not the manifest variant: GraphiQL's bundle imports its chunks by relative path.
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Tokens (docs/sessions.md and docs/keys.md).
# An RFC 6265 token: what a cookie's name may hold.
COOKIE_NAME_PATTERN = re.compile(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]+")
MINIMUM_JWT_KEY_LENGTH = 32  # RFC 7518: an HMAC key at least as long as HS256's hash
JWT = {
    # The first key signs; all verify. Only JWT_ALGORITHM is accepted when verifying.
    "KEYS": keys.configured_key_ring(
        env_choice("JWT_ALGORITHM", "HS256", keys.ALGORITHMS),
        private_keys=env_pem_list("JWT_PRIVATE_KEYS"),
        signing_keys=env_list("JWT_SIGNING_KEYS"),
        signing_key=env_str("JWT_SIGNING_KEY"),
        default_signing_key=SECRET_KEY,
        minimum_secret_length=0 if DEBUG else MINIMUM_JWT_KEY_LENGTH,
    ),
    "ACCESS_TOKEN_LIFETIME": env_int("JWT_ACCESS_TOKEN_LIFETIME", 300),
    "REFRESH_TOKEN_LIFETIME": env_int("JWT_REFRESH_TOKEN_LIFETIME", 86400),
    # A session ends this long after its tokenAuth, however often it is refreshed.
    "SESSION_MAX_LIFETIME": env_int("JWT_SESSION_MAX_LIFETIME", 30 * 24 * 3600),
    "ISSUER": env_str("JWT_ISSUER") or None,
    "AUDIENCE": env_str("JWT_AUDIENCE") or None,
    # How long a consumed refresh token whose successor is unused still answers with that successor.
    "REFRESH_GRACE_SECONDS": env_int("JWT_REFRESH_GRACE_SECONDS", 30),
    # The refresh cookie of browser sessions (docs/sessions.md); by default named for the request.
    "REFRESH_COOKIE_NAME": env_str("JWT_REFRESH_COOKIE_NAME") or None,
    "REFRESH_COOKIE_SAMESITE": env_choice("JWT_REFRESH_COOKIE_SAMESITE", "Strict", ("Strict", "Lax", "None")),
}

if JWT["SESSION_MAX_LIFETIME"] < 1:
    raise ImproperlyConfigured("JWT_SESSION_MAX_LIFETIME must be a positive number of seconds.")
if JWT["REFRESH_GRACE_SECONDS"] < 0:
    raise ImproperlyConfigured("JWT_REFRESH_GRACE_SECONDS must be 0 or more seconds.")
if JWT["REFRESH_COOKIE_NAME"] is not None and not COOKIE_NAME_PATTERN.fullmatch(JWT["REFRESH_COOKIE_NAME"]):
    raise ImproperlyConfigured("JWT_REFRESH_COOKIE_NAME must be a cookie name: letters, digits and !#$%&'*+-.^_`|~.")
# Only a plain-HTTP request in DEBUG gets the cookie without Secure, and browsers refuse
# SameSite=None without Secure.
if JWT["REFRESH_COOKIE_SAMESITE"] == "None" and DEBUG:
    raise ImproperlyConfigured(
        "JWT_REFRESH_COOKIE_SAMESITE=None needs a Secure cookie, which DJANGO_DEBUG=1 does not promise "
        "(plain-HTTP requests get one without Secure): use Strict or Lax in development."
    )

# Secrets the server reads back (TOTP secrets) are stored encrypted with these Fernet keys: the
# first encrypts, all decrypt. Without the variable, one key derived from DJANGO_SECRET_KEY.
FIELD_ENCRYPTION_KEYS = crypto.checked_keys(env_list("FIELD_ENCRYPTION_KEYS") or [crypto.key_derived_from(SECRET_KEY)])

# Two-factor login: the name authenticator apps show next to the account (docs/totp-and-api-keys.md).
TOTP_ISSUER = env_str("TOTP_ISSUER") or "GraphQL Auth"

# Signing in with OpenID Connect providers (docs/oidc.md): a JSON list of
# {"name", "issuer", "client_id", "client_secret", "scopes"?}, and the redirect URIs a frontend may
# ask them to return to. An http:// issuer that is not on a loopback host stops the server here.
OIDC_PROVIDERS = oidc_providers.configured_providers(env_str("OIDC_PROVIDERS"))
OIDC_REDIRECT_URIS = oidc_providers.checked_redirect_uris(env_list("OIDC_REDIRECT_URIS"))
# oidcAuthorizationUrl and oidcLogin calls per client IP, each counted on its own.
OIDC_RATE_LIMIT = env_rate("OIDC_RATE_LIMIT", "30/m")

# GraphQL endpoint (docs/security.md). Read at request time, so override_settings works.
GRAPHQL_INTROSPECTION = env_bool("GRAPHQL_INTROSPECTION", DEBUG)
GRAPHIQL = env_bool("GRAPHIQL", DEBUG)
GRAPHQL_MAX_DEPTH = env_int("GRAPHQL_MAX_DEPTH", 10)
GRAPHQL_MAX_ALIASES = env_int("GRAPHQL_MAX_ALIASES", 15)
GRAPHQL_MAX_TOKENS = env_int("GRAPHQL_MAX_TOKENS", 2000)
# Field selections written in a document (a fragment's counted once); GraphiQL's introspection has about 70.
GRAPHQL_MAX_FIELDS = env_int("GRAPHQL_MAX_FIELDS", 200)
GRAPHQL_MAX_BODY_BYTES = env_int("GRAPHQL_MAX_BODY_BYTES", 100 * 1024)
# Nodes an operation may return, counted before it runs (docs/security.md).
GRAPHQL_MAX_NODES = env_int("GRAPHQL_MAX_NODES", 10_000)
# About the bytes of JSON one answer may hold (schema.execution counts them as leaves complete).
GRAPHQL_MAX_RESPONSE_BYTES = env_int("GRAPHQL_MAX_RESPONSE_BYTES", 10_000_000)
# The plain-field shortcut of schema.execution, which overrides graphql-core methods that are not
# public API (tests/test_library_internals.py): 0 lets graphql-core execute every field itself.
GRAPHQL_EXECUTION_SHORTCUT = env_bool("GRAPHQL_EXECUTION_SHORTCUT", True)

# The WebSocket of subscriptions (docs/subscriptions.md): subscriptions one socket may hold, seconds a
# socket may take to send connection_init, sockets one user may hold open in one server process,
# and how often each process rechecks the credentials of all its open sockets (one query each time).
GRAPHQL_WS_MAX_SUBSCRIPTIONS = env_int("GRAPHQL_WS_MAX_SUBSCRIPTIONS", 20)
GRAPHQL_WS_CONNECTION_INIT_TIMEOUT = env_int("GRAPHQL_WS_CONNECTION_INIT_TIMEOUT", 10)
GRAPHQL_WS_MAX_SOCKETS_PER_USER = env_int("GRAPHQL_WS_MAX_SOCKETS_PER_USER", 10)
# Threads of each uvicorn process that run HTTP requests through Django (project.asgi).
ASGI_HTTP_THREADS = env_int("ASGI_HTTP_THREADS", 4)
if not 1 <= ASGI_HTTP_THREADS <= 64:
    raise ImproperlyConfigured("ASGI_HTTP_THREADS must be between 1 and 64.")

GRAPHQL_WS_RECHECK_SECONDS = env_int("GRAPHQL_WS_RECHECK_SECONDS", 2)
if min(GRAPHQL_WS_MAX_SUBSCRIPTIONS, GRAPHQL_WS_CONNECTION_INIT_TIMEOUT, GRAPHQL_WS_MAX_SOCKETS_PER_USER) < 1:
    raise ImproperlyConfigured(
        "GRAPHQL_WS_MAX_SUBSCRIPTIONS, GRAPHQL_WS_CONNECTION_INIT_TIMEOUT and GRAPHQL_WS_MAX_SOCKETS_PER_USER "
        "must be at least 1."
    )
if not 1 <= GRAPHQL_WS_RECHECK_SECONDS <= 4:
    raise ImproperlyConfigured(
        "GRAPHQL_WS_RECHECK_SECONDS must be between 1 and 4: a revoked credential's socket must close within 5 seconds."
    )

# Persisted documents (docs/persisted-documents.md): manifest files of trusted documents, read and validated
# at start (schema.manifests); whether only those run; how many documents Apollo's automatic
# persisted queries may register (schema.persisted).
GRAPHQL_TRUSTED_DOCUMENTS = env_list("GRAPHQL_TRUSTED_DOCUMENTS")
GRAPHQL_TRUSTED_DOCUMENTS_ONLY = env_bool("GRAPHQL_TRUSTED_DOCUMENTS_ONLY", False)
GRAPHQL_APQ_MAX_ENTRIES = env_int("GRAPHQL_APQ_MAX_ENTRIES", 1000)
if GRAPHQL_APQ_MAX_ENTRIES < 1:
    raise ImproperlyConfigured("GRAPHQL_APQ_MAX_ENTRIES must be at least 1.")
if GRAPHQL_TRUSTED_DOCUMENTS_ONLY and not GRAPHQL_TRUSTED_DOCUMENTS:
    raise ImproperlyConfigured(
        "GRAPHQL_TRUSTED_DOCUMENTS_ONLY=1 needs GRAPHQL_TRUSTED_DOCUMENTS: no document could run."
    )

# Points each viewer may spend per hour on operations (docs/security.md, accounts.budget).
GRAPHQL_POINTS_PER_HOUR = env_int("GRAPHQL_POINTS_PER_HOUR", 5000)
if not 1 <= GRAPHQL_POINTS_PER_HOUR < 10**9:
    raise ImproperlyConfigured("GRAPHQL_POINTS_PER_HOUR must be between 1 and 999999999.")

# Rate limits, "N/s", "N/m" or "N/h" (docs/security.md), counted in the RATELIMIT_USE_CACHE cache.
LOGIN_RATE_LIMIT = env_rate("LOGIN_RATE_LIMIT", "5/m")
REGISTER_RATE_LIMIT = env_rate("REGISTER_RATE_LIMIT", "20/h")
# refreshToken and revokeToken calls per client IP: generous, since every client refreshes
# every few minutes and many may share one address.
TOKEN_RATE_LIMIT = env_rate("TOKEN_RATE_LIMIT", "60/m")

# API keys (docs/totp-and-api-keys.md): the longest lifetime of a key, and its lifetime when none is asked for.
API_KEY_MAX_LIFETIME = env_int("API_KEY_MAX_LIFETIME", 365 * 24 * 3600)
if API_KEY_MAX_LIFETIME <= 0:
    raise ImproperlyConfigured("API_KEY_MAX_LIFETIME must be a positive number of seconds.")

# Audit rows one client address may add per minute for each kind of refusal (docs/security.md);
# the first of each kind in a minute is always written.
AUDIT_MAX_EVENTS_PER_MINUTE = env_int("AUDIT_MAX_EVENTS_PER_MINUTE", 50)
if AUDIT_MAX_EVENTS_PER_MINUTE < 1:
    raise ImproperlyConfigured("AUDIT_MAX_EVENTS_PER_MINUTE must be at least 1.")

# Page size of every connection when neither first nor last is given, and the most either may ask for.
GRAPHQL_PAGE_SIZE = env_int("GRAPHQL_PAGE_SIZE", 20)
GRAPHQL_MAX_PAGE_SIZE = env_int("GRAPHQL_MAX_PAGE_SIZE", 100)

# Extra codenames required on top of each field's declared rule: {"Type.field": ["app.codename"]}.
GRAPHQL_FIELD_CODENAMES = env_field_codenames("GRAPHQL_FIELD_CODENAMES")

# How many X-Forwarded-For hops to believe when finding the client IP.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Account recovery and email verification (docs/recovery.md).
PASSWORD_RESET_URL = env_link_template("PASSWORD_RESET_URL", "http://localhost:3000/reset?token={token}")
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3600)
# Per client IP and per address; over it requestPasswordReset still answers true and sends nothing.
PASSWORD_RESET_RATE_LIMIT = env_rate("PASSWORD_RESET_RATE_LIMIT", "5/h")
EMAIL_VERIFY_URL = env_link_template("EMAIL_VERIFY_URL", "http://localhost:3000/verify?token={token}")
EMAIL_VERIFY_TIMEOUT = env_int("EMAIL_VERIFY_TIMEOUT", 3 * 24 * 3600)
# Until their address is verified, users may not create, change or delete tasks, nor make API keys.
REQUIRE_VERIFIED_EMAIL = env_bool("REQUIRE_VERIFIED_EMAIL", False)
if PASSWORD_RESET_TIMEOUT < 1 or EMAIL_VERIFY_TIMEOUT < 1:
    raise ImproperlyConfigured("PASSWORD_RESET_TIMEOUT and EMAIL_VERIFY_TIMEOUT must be positive numbers of seconds.")

# Mail leaves through a queue in the database (django-tasks-db) that `manage.py worker` runs.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# EMAIL_BACKEND, EMAIL_HOST, EMAIL_PORT... from EMAIL_URL, which is not kept as a setting itself: it
# holds the SMTP password, and DEBUG's error page shows settings whose names do not look secret.
_email_transport = env_email_url("EMAIL_URL", "console://" if DEBUG else "")
globals().update(_email_transport)
# Without one, mail waits in the queue: the worker refuses to start and the server warns (accounts.checks).
EMAIL_TRANSPORT_CONFIGURED = bool(_email_transport)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "webmaster@localhost"
# Seconds each step of talking to the SMTP server may take; Django's default is to wait forever.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
# A job a worker claimed longer ago than this without finishing is run again: that worker died.
WORKER_CLAIM_TIMEOUT = env_int("WORKER_CLAIM_TIMEOUT", 300)
if EMAIL_TIMEOUT < 1 or WORKER_CLAIM_TIMEOUT < 1:
    raise ImproperlyConfigured("EMAIL_TIMEOUT and WORKER_CLAIM_TIMEOUT must be positive numbers of seconds.")

# Browser-facing security.
CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS",
    ["http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:5173"] if DEBUG else [],
)
CORS_ALLOW_HEADERS = ("authorization", "x-api-key", "content-type")
CORS_ALLOW_METHODS = ("GET", "POST", "OPTIONS")
# Browser clients may read the request id (to quote it in an error report) and their budget.
CORS_EXPOSE_HEADERS = (
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Used",
    "X-RateLimit-Reset",
)
# Lets the listed origins send the refresh cookie (the only cookie the API reads): never to any origin.
CORS_ALLOW_CREDENTIALS = env_bool("CORS_ALLOW_CREDENTIALS", False)
if CORS_ALLOW_CREDENTIALS and "*" in CORS_ALLOWED_ORIGINS:
    raise ImproperlyConfigured("CORS_ALLOW_CREDENTIALS=1 needs CORS_ALLOWED_ORIGINS to list origins, not '*'.")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True

# Operations (docs/deployment.md). /metrics answers only with METRICS_ENABLED (read per request),
# and only to `Authorization: Bearer <METRICS_TOKEN>` when that is set.
METRICS_ENABLED = env_bool("METRICS_ENABLED", False)
METRICS_TOKEN = env_str("METRICS_TOKEN")

# Traces are exported only when an OTEL_* variable asks for an exporter (project.tracing).
TRACING_ENABLED = otel_traces_requested()

# Log lines: text, or one JSON object a line; both carry the request's id (project.request_id).
LOG_FORMAT = env_choice("LOG_FORMAT", "text", ("text", "json"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "project.request_id.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "project.json_logs.JsonFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # The queue's worker says "starting" and "no more jobs" on every poll; accounts.mail_worker says it once.
        "django_tasks_db": {"level": "WARNING"},
        # Authlib logs the PKCE verifier of each OpenID Connect sign-in at DEBUG (accounts/oidc.py).
        "authlib": {"level": "INFO"},
    },
}
