"""Backends for tests: SMS that fails as told, email refused or followed by a database outage."""

import os
import threading
import time

from django.core.mail.backends import locmem
from django.core.mail.backends.base import BaseEmailBackend

from notifications import sms
from notifications.exceptions import PermanentDeliveryError, TemporaryDeliveryError

# What the next sends do: a list of "ok", "temporary", "permanent" or "hang" consumed in
# order; when it is empty every send succeeds. "hang" waits for ``release`` (a gateway that
# does not answer), then times out.
script: list[str] = []
hanging = threading.Event()
release = threading.Event()


class ScriptedBackend(sms.LocmemBackend):
    """Fail or succeed as ``script`` says, else keep the message in ``sms.outbox``."""

    def send(self, message):
        step = script.pop(0) if script else "ok"
        if step == "hang":
            hanging.set()
            release.wait(10)
            raise TemporaryDeliveryError("gateway timed out")
        if step == "temporary":
            raise TemporaryDeliveryError("gateway answered 503")
        if step == "permanent":
            raise PermanentDeliveryError("gateway answered 400: invalid number")
        return super().send(message)


class RefusingEmailBackend:
    """An email backend whose server refuses every recipient."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"no such user") for m in messages})


class DatabaseOutage:
    """
    Break the database connection as a restarted or unreachable server does: ``drop()``
    kills the DBAPI connection under Django's feet (its next query fails); while ``down``,
    every new connection dies as soon as it is made.
    """

    def __init__(self):
        self.down = False
        self.drops = 0

    def drop(self) -> None:
        from django.db import connection

        if connection.connection is not None:
            connection.connection.close()
            self.drops += 1

    def on_connection_created(self, sender, connection, **kwargs):
        if self.down:
            connection.connection.close()
            self.drops += 1


# The outage the DroppingEmailBackend causes (tests connect and reset it).
outage = DatabaseOutage()


class DroppingEmailBackend(locmem.EmailBackend):
    """Send the email (``mail.outbox``), then drop the database connection: the fault
    between a successful send and the save that records it."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        outage.drop()
        return sent


class LoggingEmailBackend(BaseEmailBackend):
    """
    For worker processes started by tests: take ``LINLI_TEST_SEND_DELAY`` seconds per email
    (a mail server's answer), then append one line, ``<Message-ID> <recipient>``, to the file
    ``LINLI_TEST_MAIL_LOG`` — written at once, so a SIGKILL cannot lose a sent email's line.
    """

    def send_messages(self, messages):
        delay = float(os.environ.get("LINLI_TEST_SEND_DELAY", "0"))
        with open(os.environ["LINLI_TEST_MAIL_LOG"], "a", encoding="utf-8") as log:
            for message in messages:
                time.sleep(delay)
                log.write(f"{message.extra_headers['Message-ID']} {message.to[0]}\n")
                log.flush()
        return len(messages)
