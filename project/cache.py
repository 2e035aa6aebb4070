"""The database cache for rate-limit counters: a counter lives until it expires, a few seconds after its window."""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction
from django.utils.timezone import now as tz_now


class CounterDatabaseCache(DatabaseCache):
    """Django's DatabaseCache, minus the three ways it loses a count.

    - Past MAX_ENTRIES rows, Django's cull deletes a third of the rows, live or not: whoever can
      add rows (a login attempt with a new username adds one) could wipe the counters holding
      them back. Here culling deletes expired rows only; the table holds the counters of the
      current windows and no more.
    - Django's incr writes the new value with the default timeout (300 s), so an hour's window
      ended after five quiet minutes. Here incr changes the value and keeps the row's expiry.
    - Django's incr reads then writes, so two workers could both turn 3 into 4. Here the read
      locks the row first: SELECT ... FOR UPDATE on PostgreSQL; on SQLite the IMMEDIATE
      transaction (settings.sqlite_options) already takes the write lock when it begins.

    Keep it apart from any cache that holds other things: rows of such a cache in the same table
    would count toward the same culling.
    """

    def _cull(self, db, cursor, now, num):
        connection = connections[db]
        cursor.execute(
            f"DELETE FROM {connection.ops.quote_name(self._table)} WHERE {connection.ops.quote_name('expires')} < %s",
            [connection.ops.adapt_datetimefield_value(now)],
        )

    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote_name = connection.ops.quote_name
        table, cache_key, value, expires = map(quote_name, (self._table, "cache_key", "value", "expires"))
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(f"SELECT {value} FROM {table} WHERE {cache_key} = %s AND {expires} >= %s{lock}", [key, now])
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            new_value = pickle.loads(base64.b64decode(connection.ops.process_clob(row[0]).encode())) + delta
            encoded = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET {value} = %s WHERE {cache_key} = %s", [encoded, key])
        return new_value
