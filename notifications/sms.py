"""
SMS backends, chosen by the ``SMS_BACKEND`` setting like Django's ``EMAIL_BACKEND``.

- ``notifications.sms.ConsoleBackend`` prints each message, links redacted (development).
- ``notifications.sms.FileBackend`` also keeps each message whole as a file in
  ``SMS_FILE_PATH``.
- ``notifications.sms.LocmemBackend`` appends to ``notifications.sms.outbox`` (tests).
- ``notifications.sms.HttpGatewayBackend`` POSTs JSON to ``SMS_GATEWAY_URL`` with
  ``SMS_GATEWAY_TOKEN`` (production). A 4xx answer is permanent (the number or the text
  is refused); a 5xx answer, a timeout or a refused connection is temporary.

Each message carries a ``key``, the same on every attempt to send it
(``notifications.identity``): the gateway gets it as ``key`` in the JSON and as the
``Idempotency-Key`` header, so that it can drop a second copy sent after a worker died.
"""

import datetime
import json
import sys
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from core.logs import redact_secrets
from notifications.exceptions import PermanentDeliveryError, TemporaryDeliveryError

# Messages "sent" by the LocmemBackend, for tests (like django.core.mail.outbox).
outbox: list["SmsMessage"] = []


@dataclass
class SmsMessage:
    """One text message: recipient phone number (E.164), text, sender name and its key."""

    to: str
    body: str
    sender: str = ""
    # Same on every attempt to send this message, so that a duplicate can be dropped.
    key: str = ""


class BaseBackend:
    """Send text messages; return a reference from the channel, or raise a DeliveryError."""

    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Print each message to standard output, private links redacted (it ends up in a log)."""

    stream = None

    def send(self, message: SmsMessage) -> str:
        stream = self.stream or sys.stdout
        text = (
            f"SMS to {message.to} from {message.sender} [{message.key}]:\n"
            f"{message.body}\n{'-' * 40}\n"
        )
        stream.write(redact_secrets(text))
        stream.flush()
        return ""


class FileBackend(ConsoleBackend):
    """Print each message and keep it as a file in ``SMS_FILE_PATH`` (default var/sms/)."""

    def send(self, message: SmsMessage) -> str:
        super().send(message)
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        reference = f"{stamp}-{uuid.uuid4().hex[:8]}"
        (folder / f"{reference}.txt").write_text(
            f"To: {message.to}\nFrom: {message.sender}\nKey: {message.key}\n\n{message.body}\n",
            encoding="utf-8",
        )
        return reference


class LocmemBackend(BaseBackend):
    """Keep messages in ``notifications.sms.outbox`` (tests)."""

    _lock = threading.Lock()

    def send(self, message: SmsMessage) -> str:
        with self._lock:
            outbox.append(message)
            return str(len(outbox))


class HttpGatewayBackend(BaseBackend):
    """
    POST ``{"to", "text", "sender", "key"}`` as JSON with a bearer token to
    ``SMS_GATEWAY_URL``; the key also goes as the ``Idempotency-Key`` header.
    """

    def send(self, message: SmsMessage) -> str:
        url = settings.SMS_GATEWAY_URL
        if not url:
            raise PermanentDeliveryError("SMS_GATEWAY_URL is not set.")
        payload = {"to": message.to, "text": message.body, "sender": message.sender}
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}",
        }
        if message.key:
            payload["key"] = message.key
            headers["Idempotency-Key"] = message.key
        request = urllib.request.Request(  # noqa: S310 (the URL comes from settings)
            url, data=json.dumps(payload).encode(), method="POST", headers=headers
        )
        timeout = settings.SMS_GATEWAY_TIMEOUT
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                body = response.read(10_000)
        except urllib.error.HTTPError as error:
            detail = error.read(500).decode("utf-8", "replace")
            text = f"SMS gateway answered {error.code}: {detail}".strip()
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise PermanentDeliveryError(text) from error
            raise TemporaryDeliveryError(text) from error
        except (TimeoutError, urllib.error.URLError, OSError) as error:
            raise TemporaryDeliveryError(f"SMS gateway unreachable: {error}") from error
        try:
            return str(json.loads(body or b"{}").get("id", ""))[:100]
        except (ValueError, AttributeError):
            return ""


def get_backend() -> BaseBackend:
    """Return an instance of the backend named by ``SMS_BACKEND``."""
    path = settings.SMS_BACKEND
    return import_string(path)()


def send_sms(*, to: str, body: str, sender: str = "", key: str = "") -> str:
    """
    Send one text message through the configured backend; return its reference.
    ``key`` is the message's identity, the same on every attempt (``notifications.identity``).
    """
    return get_backend().send(SmsMessage(to=to, body=body, sender=sender, key=key))
