"""The database cache with an increment that concurrent processes cannot interleave."""

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction


class AtomicDatabaseCache(DatabaseCache):
    """Django's DatabaseCache.incr reads then writes, so two workers can both turn 3 into 4.

    Rate limits count through incr, so here the read locks the row first: SELECT ... FOR
    UPDATE on PostgreSQL; on SQLite the IMMEDIATE transaction (settings.sqlite_options)
    already takes the write lock when it begins. Redis needs none of this: its INCR is atomic.
    """

    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote_name('cache_key')} FROM {quote_name(self._table)} "
                f"WHERE {quote_name('cache_key')} = %s{lock}",
                [self.make_and_validate_key(key, version=version)],
            )
            return super().incr(key, delta, version=version)
