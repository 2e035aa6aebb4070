"""project.cache.CounterDatabaseCache: a counter is never lost before it expires.

Django's own DatabaseCache.incr reads, then writes; with the same threads on PostgreSQL it
ended below the expected count when this was written. It also culls live rows past
MAX_ENTRIES and gives an incremented row the default timeout.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import connection
from django.utils import timezone

from project.cache import CounterDatabaseCache

THREADS = 8
INCREMENTS = 25


def own_table(name):
    """A counter cache on a table of its own: the suite's caches may be Redis, with no table at all."""
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table("default", name, dry_run=False)
    return CounterDatabaseCache(name, {"OPTIONS": {"MAX_ENTRIES": 10}})


@pytest.fixture
def counters(db):
    yield own_table("counter_cache_test")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE counter_cache_test")


@pytest.fixture
def concurrent_counters(transactional_db):
    if connection.vendor == "sqlite":
        # The test database is SQLite's shared in-memory one, whose writers fail at once
        # instead of waiting; a file database (settings.sqlite_options) serialises them.
        pytest.skip("needs a database whose concurrent writers wait for each other")
    yield own_table("atomic_cache_test")
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE atomic_cache_test")


def test_concurrent_increments_all_count(concurrent_counters):
    concurrent_counters.set("counter", 0)

    def add_many(_):
        try:
            for _ in range(INCREMENTS):
                concurrent_counters.incr("counter")
        finally:
            connection.close()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(add_many, range(THREADS)))
    assert concurrent_counters.get("counter") == THREADS * INCREMENTS


def test_rows_past_max_entries_stay_until_they_expire(counters):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for number in range(5):
            counters.add(f"short{number}", 1, timeout=10)
        for number in range(50):
            counters.add(f"long{number}", 1, timeout=100)
        assert all(counters.get(f"long{number}") == 1 for number in range(50))
        clock.shift(timedelta(seconds=11))
        counters.add("later", 1, timeout=100)  # past MAX_ENTRIES, an add culls: the expired rows only
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM counter_cache_test")
            assert cursor.fetchone()[0] == 51


def test_an_increment_keeps_the_expiry(counters):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        counters.add("counter", 1, timeout=3600)
        clock.shift(timedelta(minutes=50))
        assert counters.incr("counter") == 2  # Django's incr would move the expiry to 300 s from here
        clock.shift(timedelta(minutes=9))
        assert counters.incr("counter", 3) == 5
        clock.shift(timedelta(minutes=1, seconds=1))
        assert counters.get("counter") is None
        with pytest.raises(ValueError):
            counters.incr("counter")
