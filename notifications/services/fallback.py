"""
A message its channel will not deliver goes through the recipient's other channel instead.

Only channels listed in the setting ``CHANNEL_FALLBACK_EXTENSIONS`` (``channel_fallback``)
have a fallback: WeChat, whose refusals (not followed, quota, blocked…) and long outages must not
cost the resident the message. When such a message is given up, one transaction records
a new message — same template, language, context (private links included: this one is not
finished yet) and station — to the route the channel's fallback names, and finishes the
refused one as "sent another way" with ``fallback`` pointing at the new one and the reason
in ``last_error``. The new message is an ordinary outbox message (persisted, idempotent under
``<key>:fallback``, retried, ordered in its own thread, quiet hours).
"""

import hashlib
import logging

from django.db import transaction
from django.utils import timezone

from notifications.constants import MessageStatus
from notifications.models import Message
from notifications.services.attempts import finish, write_retrying
from notifications.services.queueing import message_queue

logger = logging.getLogger(__name__)


class _TakenOver(Exception):
    """Another attempt holds the message now: roll the fallback back."""


def fallback_key(idempotency_key: str) -> str:
    """Return the idempotency key of the message that replaces ``idempotency_key``'s."""
    key = f"{idempotency_key}:fallback"
    if len(key) > 255:
        key = "fallback:" + hashlib.sha256(idempotency_key.encode()).hexdigest()
    return key


def message_fall_back(
    *, message: Message, attempt, route: tuple[str, str], error_text: str
) -> Message | None:
    """
    Queue ``message`` again through ``route`` (``(channel, to)``) and finish it as "sent
    another way", in one transaction, if attempt ``attempt`` still holds it. Return the new
    message, or None when another attempt took the message over (nothing is written).
    """
    channel, to = route
    context = dict(message.context or {})  # before ``finish`` erases its private values

    def write():
        try:
            with transaction.atomic(using=Message.objects.db):
                replacement = message_queue(
                    template=message.template,
                    language=message.language,
                    channel=channel,
                    to=to,
                    context=context,
                    idempotency_key=fallback_key(message.idempotency_key),
                    station=message.station,
                    concerning=message.concerning,
                    recipient_name=message.recipient_name,
                )
                message.context = context
                message.last_error = error_text
                message.updated_at = timezone.now()
                fields = [
                    *finish(message, MessageStatus.FELL_BACK, fallback_id=replacement.pk),
                    "last_error",
                ]
                values = {name: getattr(message, name) for name in fields}
                updated = Message.objects.filter(
                    pk=message.pk, status=MessageStatus.SENDING, attempt_id=attempt
                ).update(**values)
                if not updated:
                    raise _TakenOver
                return replacement
        except _TakenOver:
            return None

    replacement = write_retrying(write, what=f"the fallback of message {message.pk}")
    if replacement is not None:
        logger.warning(
            "Message %s (%s) refused by %s: sent as message %s by %s instead. %s",
            message.pk,
            message.template,
            message.channel,
            replacement.pk,
            channel,
            error_text,
        )
    return replacement
