"""Reading a session from the database at the cost of its query.

A socket whose session is not in the cache yet (``SESSION_ENGINE``
``cached_db``), and every periodic re-check (which reads the database on
purpose), load the session row with ``Session.objects.get(...)``: about
0.25 ms of CPU for Django to build and compile a query that SQLite runs in a
few microseconds (docs/benchmarks.md). The stores here are the engine's own,
with only that read replaced by SQL written once: the same row (the key, not
expired), the same model instance, and everything else (decoding, the cache,
expiry) left to Django.
"""

from __future__ import annotations

import functools
from importlib import import_module
from typing import Any

from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.backends.base import SessionBase
from django.db import connections, router
from django.utils import timezone

DB = "django.contrib.sessions.backends.db"
CACHED_DB = "django.contrib.sessions.backends.cached_db"


class _PreparedRead:
    """``_get_session_from_db`` as one prepared statement."""

    model: Any
    session_key: str | None
    _session_key: str | None

    @property
    def key_salt(self) -> str:
        # Django salts the session's signature with the store's class name:
        # the stock stores' (both are ``SessionStore``), or no session decodes.
        return "django.contrib.sessions.SessionStore"

    def _get_session_from_db(self) -> Any:
        model = self.model
        using = router.db_for_read(model)
        connection = connections[using]
        sql, data_at, expiry_at, converters = _statement(model, using, connection.vendor)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        with connection.cursor() as cursor:
            cursor.execute(sql, [self.session_key, now])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None
            return None
        expire_date = row[expiry_at]
        for convert, column in converters:
            expire_date = convert(expire_date, column, connection)
        return model(
            session_key=self.session_key, session_data=row[data_at], expire_date=expire_date
        )


class DbStore(_PreparedRead, db.SessionStore):
    pass


class CachedDbStore(_PreparedRead, cached_db.SessionStore):
    pass


@functools.cache
def _statement(model: Any, using: str, vendor: str) -> tuple[str, int, int, list[Any]]:
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = model._meta
    names = ("session_key", "session_data", "expire_date")
    key, data, expiry = (opts.get_field(name) for name in names)
    column = expiry.get_col(opts.db_table)
    found = connection.ops.get_db_converters(column) + expiry.get_db_converters(connection)
    converters = [(convert, column) for convert in found]
    table = quote(opts.db_table)
    sql = (
        f"SELECT {quote(data.column)}, {quote(expiry.column)} FROM {table}"  # noqa: S608
        f" WHERE {quote(key.column)} = %s AND {quote(expiry.column)} > %s"
    )
    return sql, 0, 1, converters


def store_class(engine: str) -> type[SessionBase]:
    """The session store for ``engine``: Django's, with the prepared read for
    the database engines."""
    if engine == CACHED_DB:
        return CachedDbStore
    if engine == DB:
        return DbStore
    store: type[SessionBase] = import_module(engine).SessionStore
    return store
