"""System checks: the cache of rate-limit counters must not evict a counter before its window ends,
and mail needs a way out.

The database cache is safe by construction (project.cache.CounterDatabaseCache). Redis decides
by its maxmemory-policy, which only the server knows: every policy but noeviction evicts keys
that have a TTL (volatile-*) or any key (allkeys-*) once memory is full, and every counter has
a TTL. Servers like gunicorn run no system checks, so project.wsgi and project.asgi run this
one at start-up (check_at_startup), with the warning that mail has no transport.
"""

import logging

import redis
from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management.base import SystemCheckError

logger = logging.getLogger(__name__)

RATE_LIMIT_CACHE = "ratelimit_cache"
MAIL_TRANSPORT = "mail_transport"
NO_TRANSPORT = (
    "EMAIL_URL is not set: mail (password resets, address links) waits in the queue, and the worker "
    "will not start, until it is."
)
REQUIRED_POLICY = "noeviction"


@checks.register(checks.Tags.caches, RATE_LIMIT_CACHE)
def redis_keeps_rate_limit_counters(app_configs, **kwargs):
    counters = caches[settings.RATELIMIT_USE_CACHE]
    if not isinstance(counters, RedisCache):
        return []
    try:
        policy = counters._cache.get_client(write=True).config_get("maxmemory-policy").get("maxmemory-policy")
    except redis.ResponseError:
        # Managed services (ElastiCache, Memorystore, ...) often rename or forbid CONFIG.
        return [
            checks.Warning(
                "Cannot read the Redis maxmemory-policy (CONFIG GET is not allowed); rate-limit counters "
                f"are only safe if it is {REQUIRED_POLICY}.",
                hint=f"Set maxmemory-policy to {REQUIRED_POLICY} in the service's settings, then silence "
                "accounts.W001 with SILENCED_SYSTEM_CHECKS.",
                id="accounts.W001",
            )
        ]
    except redis.RedisError as error:
        return [
            checks.Warning(
                f"Cannot reach Redis to read its maxmemory-policy ({type(error).__name__}).",
                hint=f"Rate-limit counters need maxmemory-policy {REQUIRED_POLICY}.",
                id="accounts.W002",
            )
        ]
    if policy != REQUIRED_POLICY:
        return [
            checks.Error(
                f"Redis evicts keys when its memory is full (maxmemory-policy {policy}): rate-limit counters "
                "could be evicted and their limits reset.",
                hint=f"Run Redis with maxmemory-policy {REQUIRED_POLICY} (docs/security.md, Rate limiting).",
                id="accounts.E001",
            )
        ]
    return []


@checks.register(MAIL_TRANSPORT)
def mail_has_a_transport(app_configs, **kwargs):
    if settings.EMAIL_TRANSPORT_CONFIGURED:
        return []
    return [
        checks.Warning(
            NO_TRANSPORT,
            hint="Set EMAIL_URL, e.g. smtp://user:password@mail.example.com:587?tls=1, and run `manage.py worker`.",
            id="accounts.W003",
        )
    ]


def check_at_startup():
    """Refuse to serve (SystemCheckError) when counters could be evicted; warnings are logged, so
    that they come out as the server's other lines do (JSON with LOG_FORMAT=json)."""
    found = checks.run_checks(tags=[RATE_LIMIT_CACHE, MAIL_TRANSPORT])
    errors = [message for message in found if message.is_serious() and not message.is_silenced()]
    if errors:
        raise SystemCheckError("\n".join(str(message) for message in errors))
    for message in found:
        if not message.is_silenced():
            logger.warning("%s", message)
