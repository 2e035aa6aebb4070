"""System checks: the cache of rate-limit counters must not evict a counter before its window ends.

The database cache is safe by construction (project.cache.CounterDatabaseCache). Redis decides
by its maxmemory-policy, which only the server knows: every policy but noeviction evicts keys
that have a TTL (volatile-*) or any key (allkeys-*) once memory is full, and every counter has
a TTL. Servers like gunicorn run no system checks, so project.wsgi and project.asgi run this
one at start-up (check_at_startup), with outbox's warning that mail has no transport.
"""

import io

import redis
from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command

from outbox.checks import MAIL_TRANSPORT

RATE_LIMIT_CACHE = "ratelimit_cache"
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


def check_at_startup():
    """Refuse to serve (SystemCheckError) when counters could be evicted; warnings go to stderr."""
    call_command("check", tags=[RATE_LIMIT_CACHE, MAIL_TRANSPORT], stdout=io.StringIO())
