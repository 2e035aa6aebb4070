"""project.cache.AtomicDatabaseCache: concurrent increments are never lost.

Django's own DatabaseCache.incr reads, then writes; with the same threads on PostgreSQL it
ended below the expected count when this was written.
"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import connection

from project.cache import AtomicDatabaseCache

THREADS = 8
INCREMENTS = 25


@pytest.fixture
def cache(transactional_db):
    """Its own table: the suite's default cache may be Redis, with no cache table at all."""
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared in-memory one, whose writers fail at once
        # instead of waiting; a file database (settings.sqlite_options) serialises them.
        pytest.skip("needs a database whose concurrent writers wait for each other")
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table("default", "atomic_cache_test", dry_run=False)
    yield AtomicDatabaseCache("atomic_cache_test", {})
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE atomic_cache_test")


def test_concurrent_increments_all_count(cache):
    cache.set("counter", 0)

    def add_many(_):
        try:
            for _ in range(INCREMENTS):
                cache.incr("counter")
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(add_many, range(THREADS)))
    assert cache.get("counter") == THREADS * INCREMENTS
