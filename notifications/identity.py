"""
The identity a message keeps across every attempt to deliver it.

A message may be sent twice: its worker can die after the mail server or SMS gateway
accepted it but before the outbox recorded that, and the next attempt sends it again. Each
attempt therefore carries the same identity, derived from the message's idempotency key,
so that a mail client, a mail server or an SMS gateway can drop the duplicate:

- email: the ``Message-ID`` header, ``<linli.{hash}@{domain of DEFAULT_FROM_EMAIL}>``;
- SMS: ``key`` in the gateway's JSON request and its ``Idempotency-Key`` header.

The hash keeps the key itself (which names records) out of what leaves Linli.
"""

import hashlib
from email.utils import parseaddr

from django.conf import settings


def message_identity(idempotency_key: str) -> str:
    """Return the stable identity of the message recorded under ``idempotency_key``."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"linli.{digest}"


def email_message_id(idempotency_key: str) -> str:
    """Return the ``Message-ID`` header of every attempt to send the message's email."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    domain = address.rpartition("@")[2] or "linli.localhost"
    return f"<{message_identity(idempotency_key)}@{domain}>"
