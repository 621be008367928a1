"""
The embedded Celery broker: a queue in one SQLite file, which loses and corrupts nothing.

Used when ``REDIS_URL`` is not set (``make run``); production uses Redis. It is kombu's own
SQLAlchemy transport (``kombu.transport.sqlalchemy``) with two changes that give it the
at-least-once delivery Redis gives us:

- **An acknowledged message is deleted; an unacknowledged one comes back.** kombu marks a
  delivered row invisible and forgets it: the row stays forever, and a message held by a
  worker killed with ``kill -9`` is lost. Here the acknowledgement deletes the row, a
  rejected or restored message (graceful shutdown) becomes visible again, and a row left
  invisible longer than ``visibility_timeout`` by a worker that is gone is made visible
  again (the Redis transport's visibility timeout). Tasks are idempotent, so a second
  delivery is harmless; none is lost.
- **SQLite in WAL mode with a busy timeout**, so the web process, beat and the worker
  publish and consume concurrently without "database is locked".

Each publish is one ``INSERT`` committed in one transaction and each consume one
``BEGIN IMMEDIATE`` … ``UPDATE`` … ``COMMIT``: a reader never sees half a message, unlike
kombu's filesystem transport, whose worker died on a half-written message file
(``JSONDecodeError``, kombu issue 1551). The transport has no fanout exchange, so Celery
runs the worker without remote control (``celery inspect``/``control``), which Linli does
not use.
"""

import datetime
import logging
import os
import threading
import time
from json import loads
from queue import Empty

from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.utils.encoding import bytes_to_str
from sqlalchemy import create_engine, delete, event, text, update
from sqlalchemy.exc import SQLAlchemyError

logger = logging.getLogger(__name__)

# A row invisible this long (seconds) whose worker does not hold it is delivered again.
DEFAULT_VISIBILITY_TIMEOUT = 3600
# How often (seconds) a consuming process looks for such rows.
RESTORE_EVERY = 30

# Delivery tag → row id of every message this process received and has not yet
# acknowledged, rejected or given back. Process-wide: Celery may acknowledge through
# another channel object than the one that received.
_held: dict[str, int] = {}
_held_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


class Channel(kombu_sqlalchemy.Channel):
    """kombu's SQLAlchemy channel with acknowledgement by deletion and a visibility timeout."""

    _next_restore = 0.0

    @property
    def visibility_timeout(self) -> float:
        options = self.connection.client.transport_options
        return float(options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))

    def _engine_from_config(self):
        options = self.connection.client.transport_options
        url = self.connection.client.hostname
        connect_args = dict(options.get("connect_args", {}))
        if url.startswith("sqlite"):
            connect_args.setdefault("timeout", 20)  # seconds to wait for the write lock
        engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine

    def _get(self, queue):
        self._restore_expired()
        obj = self._get_or_create(queue)
        session = self.session
        if session.bind.name == "sqlite":
            session.execute(text("BEGIN IMMEDIATE TRANSACTION"))
        found = None
        try:
            message = (
                session.query(self.message_cls)
                .with_for_update()
                .filter(self.message_cls.queue_id == obj.id)
                .filter(self.message_cls.visible.is_(True))
                .order_by(self.message_cls.sent_at, self.message_cls.id)
                .first()
            )
            if message is not None:
                message.visible = False
                found = (message.id, loads(bytes_to_str(message.payload)))
        finally:
            session.commit()
        if found is None:
            raise Empty()
        row_id, payload = found
        with _held_lock:
            _held[payload["properties"]["delivery_tag"]] = row_id
        return payload

    def basic_ack(self, delivery_tag, multiple=False):
        super().basic_ack(delivery_tag, multiple=multiple)
        self._row_delete(delivery_tag)

    def basic_reject(self, delivery_tag, requeue=False):
        super().basic_reject(delivery_tag, requeue=requeue)  # requeue goes through _restore
        if not requeue:
            self._row_delete(delivery_tag)

    def _restore(self, message):
        """Give an unacknowledged message back: its own row becomes visible again."""
        with _held_lock:
            row_id = _held.pop(message.delivery_tag, None)
        if row_id is None:
            return super()._restore(message)
        self._execute(
            update(self.message_cls)
            .where(self.message_cls.id == row_id)
            .values(visible=True, sent_at=None),
            "give back",
        )
        return None

    def _row_delete(self, delivery_tag) -> None:
        with _held_lock:
            row_id = _held.pop(delivery_tag, None)
        if row_id is not None:
            self._execute(delete(self.message_cls).where(self.message_cls.id == row_id), "ack")

    def _restore_expired(self) -> None:
        """Make visible the rows delivered to a worker that is gone (none held here)."""
        now = time.monotonic()
        if now < self._next_restore:
            return
        self._next_restore = now + RESTORE_EVERY
        cutoff = datetime.datetime.now() - datetime.timedelta(seconds=self.visibility_timeout)
        with _held_lock:
            held = list(_held.values())
        statement = (
            update(self.message_cls)
            .where(self.message_cls.visible.is_(False))
            .where(self.message_cls.sent_at < cutoff)
            .values(visible=True, sent_at=None)
        )
        if held:
            statement = statement.where(self.message_cls.id.not_in(held))
        restored = self._execute(statement, "restore")
        if restored:
            logger.warning("Broker: %d unacknowledged message(s) delivered again.", restored)

    def _execute(self, statement, what: str) -> int:
        """Run one statement in its own session and transaction; log a failure, never raise.

        Its own session: Celery acknowledges from its result thread while the consumer
        polls with the channel's session, and a session serves one thread at a time. A
        failed acknowledgement leaves the row invisible: it is delivered again after the
        visibility timeout (at least once, never lost), which idempotent tasks allow.
        """
        _engine, session_factory = self._open()
        session = session_factory()
        try:
            result = session.execute(statement)
            session.commit()
            return result.rowcount or 0
        except SQLAlchemyError:
            session.rollback()
            logger.warning("Broker: could not %s a message.", what, exc_info=True)
            return 0
        finally:
            session.close()


def _forget_connections_after_fork() -> None:
    """Give a forked process (a Celery pool child) its own SQLite connections.

    kombu keeps one engine per URL for the whole process; a child must not use the pooled
    connections it inherited from its parent (SQLAlchemy: ``dispose(close=False)``).
    """
    for engine, _session_factory in kombu_sqlalchemy.Channel._engines.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_connections_after_fork)


class Transport(kombu_sqlalchemy.Transport):
    """The embedded broker's transport (``CELERY_BROKER_TRANSPORT = "core.broker:Transport"``)."""

    Channel = Channel
