"""The caches a test may touch: its own keys only, when other test processes share the Redis."""

from django.conf import settings
from django.core.cache import cache, caches


def shares_the_cache():
    """Whether other test processes use this cache too: Redis under parallel workers, where each
    worker's keys carry its own prefix (project/test_settings.py)."""
    return bool(settings.CACHES["default"].get("KEY_PREFIX"))


def delete_cache_keys(prefix):
    """Delete the keys made under `prefix` ("" for none) in the shared Redis cache."""
    client = cache._cache.get_client(write=True)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def clear_own_cache():
    """Empty the default cache and the rate-limit counters' (both in the one Redis, when it is shared)."""
    if shares_the_cache():
        delete_cache_keys(settings.CACHES["default"]["KEY_PREFIX"])
    else:
        for each in caches.all():
            each.clear()
