"""
Email and SMS backends of the fault drills: every delivered message becomes one file.

A delivery is one JSON file in ``settings.DRILL_LEDGER_DIR`` (written to a temporary name and
renamed, so a process killed with ``kill -9`` leaves either the whole file or none), saying
when it was delivered (nanoseconds), by which process, through which channel, to whom, with
which identity (the email's ``Message-ID`` and ``X-Linli-Message``; an SMS's key, if the
message carries one) and for which outbox row. ``bench/drills/tally.py`` counts these files: a
message delivered once, never or twice, and in which order.

The outbox row is found by looking up the call stack for the ``notifications.models.Message``
being delivered (``notifications.services`` passes it to the channel's sender), so the
backends need no change in the code they observe; when none is found (a message sent by
other code) the file still counts, keyed by its identity.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend

from notifications.sms import BaseBackend

SMS_KEY_ATTRIBUTES = ("idempotency_key", "key", "message_key", "reference")


def ledger_dir() -> Path:
    folder = Path(getattr(settings, "DRILL_LEDGER_DIR", Path(settings.BASE_DIR) / "var" / "ledger"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _outbox_message():
    """Return the outbox ``Message`` being delivered, from the caller's frames, or None."""
    from notifications.models import Message

    frame = sys._getframe(2)
    for _depth in range(30):
        if frame is None:
            return None
        for value in frame.f_locals.values():
            if isinstance(value, Message):
                return value
        frame = frame.f_back
    return None


def ledger_write(entry: dict) -> str:
    """Write one delivery as its own file (atomically); return its name."""
    outbox = _outbox_message()
    if outbox is not None:
        entry.update(
            outbox_id=outbox.pk,
            outbox_key=outbox.idempotency_key,
            template=outbox.template,
            concerning=f"{outbox.concerning_type_id}:{outbox.concerning_id}",
        )
    # A real channel takes a network round trip before it accepts a message (SMTP, the SMS
    # gateway); a worker killed meanwhile leaves the message "sending", as in production.
    time.sleep(float(getattr(settings, "DRILL_SEND_SECONDS", 0)))
    now = time.time_ns()
    entry.update(t=now, pid=os.getpid())
    name = f"{now}-{os.getpid()}-{secrets.token_hex(4)}"
    folder = ledger_dir()
    temporary = folder / f".{name}.tmp"
    temporary.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(temporary, folder / f"{name}.json")
    return name


class LedgerEmailBackend(BaseEmailBackend):
    """Deliver each email as one ledger file (with its headers)."""

    def send_messages(self, email_messages):
        sent = 0
        for email in email_messages or []:
            mime = email.message()
            ledger_write(
                {
                    "channel": "email",
                    "to": ",".join(email.to),
                    "message_id": str(mime.get("Message-ID", "")),
                    "x_linli_message": str(mime.get("X-Linli-Message", "")),
                    "subject": str(mime.get("Subject", "")),
                    "body_sha": hashlib.sha256(email.body.encode()).hexdigest()[:16],
                }
            )
            sent += 1
        return sent


class LedgerSmsBackend(BaseBackend):
    """Deliver each text message as one ledger file; return its name as the reference."""

    def send(self, message) -> str:
        key = next(
            (str(getattr(message, a)) for a in SMS_KEY_ATTRIBUTES if getattr(message, a, "")), ""
        )
        return ledger_write(
            {
                "channel": "sms",
                "to": message.to,
                "sms_key": key,
                "body_sha": hashlib.sha256(message.body.encode()).hexdigest()[:16],
            }
        )
