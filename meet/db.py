"""Telling a busy database from a broken one, and retrying what is safe to retry.

A database that is merely busy (SQLite's write lock held past the busy
timeout, a PostgreSQL serialization failure or deadlock, no connection slot
left) is not a bug: the request that met it changed nothing and can simply be
sent again. ``meet.middleware.DatabaseBusyMiddleware`` turns such errors into
a "busy, try again" page (503); ``retry_when_busy`` retries a whole
transaction where the database itself asks for that (PostgreSQL aborts one
of two conflicting transactions and expects the client to run it again).
"""

from __future__ import annotations

import functools
import logging
import random
import sqlite3
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import DatabaseError, IntegrityError, connection

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# SQLITE_BUSY and SQLITE_LOCKED (primary codes; extended codes add high bits).
SQLITE_BUSY_CODES = {5, 6}
# serialization_failure, deadlock_detected: the transaction was rolled back and
# may be run again as it is.
PG_RETRYABLE = {"40001", "40P01"}
# lock_not_available (lock_timeout), too_many_connections, cannot_connect_now,
# query_canceled (statement_timeout): the server is overloaded or shutting down.
PG_BUSY = PG_RETRYABLE | {"55P03", "53300", "57P03", "57014"}
# A connection refused for lack of slots carries no SQLSTATE in psycopg.
PG_BUSY_MESSAGES = ("too many clients", "remaining connection slots")

RETRY_ATTEMPTS = 4


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _sqlstate(exc: BaseException) -> str | None:
    state = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return state if isinstance(state, str) else None


def is_database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is too busy right now", as opposed
    to a bug or a broken database."""
    if not isinstance(exc, DatabaseError) or isinstance(exc, IntegrityError):
        return False
    for cause in _causes(exc):
        if isinstance(cause, sqlite3.OperationalError):
            code = getattr(cause, "sqlite_errorcode", None)
            if code is not None:
                return code & 0xFF in SQLITE_BUSY_CODES
            message = str(cause)
            return "database is locked" in message or "database table is locked" in message
        state = _sqlstate(cause)
        if state is not None:
            return state in PG_BUSY
        if any(text in str(cause) for text in PG_BUSY_MESSAGES):
            return True
    return False


def is_retryable_conflict(exc: BaseException) -> bool:
    """A PostgreSQL serialization failure or deadlock: the database rolled the
    transaction back and asks for it to be run again. SQLite's "locked" is not
    one: the busy timeout has already waited, and waiting twice as long helps
    nobody."""
    return isinstance(exc, DatabaseError) and any(
        _sqlstate(cause) in PG_RETRYABLE for cause in _causes(exc)
    )


def retry_when_busy(
    *, also: Callable[[BaseException], bool] | None = None
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run the decorated function (one whole transaction) again when the
    database asks for it: a few attempts with a short random back-off, then
    the error.

    Only the outermost transaction can be retried: inside someone else's
    ``atomic`` block the error belongs to them, so it is raised at once.
    ``also`` names further errors worth another attempt for this function.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            attempt = 1
            while True:
                try:
                    return function(*args, **kwargs)
                except DatabaseError as exc:
                    retryable = is_retryable_conflict(exc) or (also is not None and also(exc))
                    if not retryable or connection.in_atomic_block or attempt >= RETRY_ATTEMPTS:
                        raise
                    logger.info(
                        "database conflict in %s (attempt %d): %s", function.__name__, attempt, exc
                    )
                # Jitter so two conflicting retries do not collide again.
                time.sleep(random.uniform(0.005, 0.05) * attempt)  # noqa: S311
                attempt += 1

        return wrapper

    return decorate
