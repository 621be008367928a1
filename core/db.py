"""
Database connections that may drop at any moment: notice it, and run the work again.

A PostgreSQL backend can be terminated (a failover, ``pg_terminate_backend``, a restart, a
proxy timeout) while a request uses it. The driver then raises an ``OperationalError`` or
``InterfaceError``, and Django drops the connection when it cannot even roll back. If that
happens *before* the transaction commits, the database has kept nothing of it, so running
the whole transaction again on a fresh connection is safe: the resident sees their
submission stored once instead of a 500. An error *during* the commit is never retried —
the commit may have happened — and neither is any error on a connection that still
answers (a constraint, a lock timeout): those are real answers, not blips.

``CONN_HEALTH_CHECKS`` (settings) covers a connection that died between two requests;
``retry_on_lost_connection`` covers one that dies during a request.
"""

import functools
import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction

logger = logging.getLogger(__name__)

# Tries in all (the first one included). Two blips in a row within one request are rare;
# more than that is an outage, which must show as an error rather than hang the request.
DEFAULT_ATTEMPTS = 3


def connection_lost(using: str = DEFAULT_DB_ALIAS, handle=None) -> bool:
    """
    Return whether the driver connection ``handle`` of ``using`` is gone.

    Gone when Django dropped it (a failed rollback closes the connection, and the end of
    the transaction may already have opened a new one) or when it no longer answers.
    """
    connection = connections[using]
    if handle is None or connection.connection is not handle:
        return True
    try:
        # The driver's own cursor: a plain probe, outside Django's wrappers and any
        # transaction (callers use this after the failed transaction was unwound).
        cursor = handle.cursor()
        try:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        finally:
            cursor.close()
    except Exception:
        return True
    return False


def database_errors(using: str = DEFAULT_DB_ALIAS) -> tuple[type[Exception], ...]:
    """Return the errors a database call may raise: Django's, and the driver's own.

    A driver error can escape Django's translation, e.g. when closing a cursor of a dead
    connection after the statement itself failed.
    """
    return (DatabaseError, connections[using].Database.Error)


def retry_on_lost_connection(
    func=None, *, atomic: bool = True, attempts: int = DEFAULT_ATTEMPTS, using=None
):
    """
    Decorate ``func`` to run again on a fresh connection when the connection was lost.

    With ``atomic`` (writes) the whole call is one ``transaction.atomic`` block, run again
    only when the connection was lost before the commit. Without it (reads) the call is
    simply repeated. Inside an outer transaction the call runs once, unchanged: the outer
    block owns the commit, so only it could run the work again.

    ``func`` must be safe to call again from the start: it takes what it needs from its
    arguments and the database, and has no effect outside the transaction before the
    commit (tasks go through ``transaction.on_commit``, which a rollback discards).
    """

    def decorate(func):
        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            alias = using or DEFAULT_DB_ALIAS
            connection = connections[alias]
            if connection.in_atomic_block:
                return func(*args, **kwargs)
            for attempt in range(1, attempts + 1):
                committing = False
                handle = None
                try:
                    connection.ensure_connection()
                    handle = connection.connection
                    if not atomic:
                        return func(*args, **kwargs)
                    with transaction.atomic(using=alias):
                        result = func(*args, **kwargs)
                        committing = True  # what fails from here on may have committed
                    return result
                except database_errors(alias):
                    if committing or attempt == attempts or not connection_lost(alias, handle):
                        raise
                    logger.warning(
                        "Database connection lost in %s (try %d of %d); running it again.",
                        func.__qualname__,
                        attempt,
                        attempts,
                        exc_info=True,
                    )
                    connection.close()
            raise AssertionError("unreachable")  # pragma: no cover

        return wrapper

    return decorate(func) if func is not None else decorate


def stream_all(queryset, *, chunk_size: int):
    """
    Yield every row of ``queryset`` through ``iterator(chunk_size)`` (a server-side cursor
    on PostgreSQL: bounded memory), planned for reading *all* the rows. PostgreSQL plans a
    cursor for its first 10 % of rows (``cursor_tuple_fraction``): a selective query whose
    estimate is poor then gets a sequential scan where a bitmap index scan reads what a
    plain ``SELECT`` reads (the reminders' expired visas: 175 ms instead of 10 ms at a
    million registrations). The setting is this connection's only while the cursor opens.
    """
    postgresql = queryset.db and connections[queryset.db].vendor == "postgresql"
    if not postgresql:
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        cursor.execute("SET cursor_tuple_fraction = 1.0")
    try:
        yield from queryset.iterator(chunk_size=chunk_size)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET cursor_tuple_fraction")
