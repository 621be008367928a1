"""
Database sessions that survive a dropped connection (``SESSION_ENGINE = "core.sessions"``).

Django's database session store turns *any* database error while saving into
``UpdateError``, which ``SessionMiddleware`` answers with a 400 "session was deleted".
After a resident's registration was committed, a connection terminated before the session
write showed them that 400 instead of their receipt. Here a read or write that failed
because the connection was lost runs again once on a fresh connection; every other error
(a session really deleted by a concurrent logout, a constraint) behaves as in Django.
"""

import logging

from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import connections, router

from core.db import connection_lost, database_errors

logger = logging.getLogger(__name__)


class SessionStore(DatabaseSessionStore):
    """Django's database session store, retried once on a lost connection."""

    def _again_if_lost(self, operation, *args, **kwargs):
        using = router.db_for_write(self.model)
        connection = connections[using]
        handle = connection.connection
        try:
            return operation(*args, **kwargs)
        except (*database_errors(using), UpdateError):
            if connection.in_atomic_block or not connection_lost(using, handle):
                raise
            logger.warning(
                "Database connection lost during a session %s; again.", operation.__name__
            )
            connection.close()
            return operation(*args, **kwargs)

    def _get_session_from_db(self):
        return self._again_if_lost(super()._get_session_from_db)

    def exists(self, session_key):
        return self._again_if_lost(super().exists, session_key)

    def save(self, must_create=False):
        return self._again_if_lost(super().save, must_create=must_create)

    def delete(self, session_key=None):
        return self._again_if_lost(super().delete, session_key)
