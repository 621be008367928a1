"""Break the database connection under a running request, the way a terminated backend does."""

import re
from contextlib import contextmanager

from django.db import connection


class BackendTerminator:
    """
    A Django execute wrapper that kills this connection just before chosen statements.

    On PostgreSQL it calls ``pg_terminate_backend`` on the connection's backend from a
    second connection (what an operator, a failover or a proxy does); on SQLite, which has
    no server, it closes the connection's handle. Then the statement runs on the dead
    connection and fails as it would in production. Each pattern kills once.
    """

    def __init__(self, *patterns: str):
        self.pending = [re.compile(p, re.IGNORECASE) for p in patterns]
        self.killed: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        for pattern in self.pending:
            if pattern.search(sql):
                self.pending.remove(pattern)
                self.killed.append(pattern.pattern)
                _terminate(context["connection"])
                break
        return execute(sql, params, many, context)


def _terminate(db) -> None:
    if db.vendor == "postgresql":
        import psycopg

        pid = db.connection.info.backend_pid
        params = db.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        params.pop("prepare_threshold", None)
        with psycopg.connect(**params, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:
        db.connection.close()


@contextmanager
def backend_terminated_before(*patterns: str):
    """Kill the connection before the first statement matching each of ``patterns``."""
    terminator = BackendTerminator(*patterns)
    with connection.execute_wrapper(terminator):
        yield terminator
