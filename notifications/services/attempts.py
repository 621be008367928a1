"""
What delivery, the sweep and staff actions share about an attempt: its lease, its end
(finished, or interrupted without a result), waking the messages that wait for it in their
thread, and saving on a fresh database connection when the old one dropped.
"""

import contextlib
import datetime
import logging
import time

from django.conf import settings
from django.db import DatabaseError, InterfaceError, connections, transaction
from django.utils import timezone

from notifications.constants import SECRET_PREFIX, MessageStatus
from notifications.models import Message
from notifications.services.publishing import message_publish_on_commit
from notifications.timing import due_time

logger = logging.getLogger(__name__)

# What a dropped connection or a restarting database server raises.
DATABASE_FAULTS = (DatabaseError, InterfaceError)


def erase_secrets(context: dict) -> dict:
    """Return ``context`` without its ``secret_…`` keys (a message that is finished)."""
    return {
        key: value for key, value in (context or {}).items() if not key.startswith(SECRET_PREFIX)
    }


# Saving the result of an attempt: tries, and the first wait between them (doubling).
SAVE_TRIES = 5
SAVE_BACKOFF = 0.2


def write_retrying(write, *, what: str):
    """
    Run ``write()`` in a transaction and return its result; on a database error (the
    connection dropped, the server restarted) try again on a fresh connection, a few times.

    Inside a caller's transaction the connection cannot be replaced: the error is raised.
    """
    connection = connections[Message.objects.db]
    for attempt in range(1, SAVE_TRIES + 1):
        try:
            with transaction.atomic(using=Message.objects.db):
                return write()
        except DATABASE_FAULTS:
            if connection.in_atomic_block:
                raise
            # A broken connection may fail to close; the next query opens a new one anyway.
            with contextlib.suppress(*DATABASE_FAULTS):
                connection.close()
            if attempt == SAVE_TRIES:
                raise
            logger.warning(
                "Could not save %s (try %s of %s); trying again on a new database connection.",
                what,
                attempt,
                SAVE_TRIES,
                exc_info=True,
            )
            time.sleep(SAVE_BACKOFF * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def lease() -> datetime.timedelta:
    """Return how long an attempt holds its message before another may take it over."""
    return datetime.timedelta(seconds=settings.NOTIFICATIONS_SENDING_LEASE)


def lease_expired(message: Message, *, now: datetime.datetime) -> bool:
    """Return whether the attempt holding ``message`` (``sending``) ran past its lease."""
    # Rows claimed before leases existed have no start time: their last change stands in.
    started = message.sending_started_at or message.updated_at
    return started <= now - lease()


def finish(message: Message, status: str, **values) -> list[str]:
    """Put ``message`` in the final ``status`` (not saved); return the fields to save."""
    message.status = status
    message.context = erase_secrets(message.context)
    message.secrets_erased = True
    message.held_by = None
    message.attempt_id = None
    message.sending_started_at = None
    for name, value in values.items():
        setattr(message, name, value)
    return [
        "status",
        "context",
        "secrets_erased",
        "held_by",
        "attempt_id",
        "sending_started_at",
        "updated_at",
        *values,
    ]


def attempt_interrupted(*, message: Message, now: datetime.datetime) -> None:
    """
    Record that the attempt holding ``message`` (locked) stopped without a result — its
    worker died, or the sending could not be saved — and queue the message again at once.
    After ``NOTIFICATIONS_MAX_INTERRUPTED`` such attempts, stop: "may have been sent".
    """
    message.uncertain_attempts += 1
    count = message.uncertain_attempts
    if count >= settings.NOTIFICATIONS_MAX_INTERRUPTED:
        message.last_error = (
            f"{count} attempts stopped without a result (worker stopped); the message may "
            "have been sent. Check with the recipient before sending it again."
        )
        fields = finish(message, MessageStatus.POSSIBLY_SENT)
        logger.error("Message %s: %s", message.pk, message.last_error)
    else:
        message.last_error = (
            "An attempt stopped without a result (worker stopped) and may have reached the "
            "recipient; the message is sent again with the same Message-ID."
        )
        message.status = MessageStatus.CREATED
        message.attempt_id = None
        message.sending_started_at = None
        message.published_at = None
        message.next_attempt_at = due_time(channel=message.channel, moment=now)
        fields = [
            "status",
            "attempt_id",
            "sending_started_at",
            "published_at",
            "next_attempt_at",
            "updated_at",
        ]
        logger.warning("Message %s: an attempt stopped without a result; queued again.", message.pk)
    message.save(update_fields=[*fields, "uncertain_attempts", "last_error"])


def followers_wake(*, message_ids: list[int]) -> None:
    """Hand to the queue now the messages that wait for any of ``message_ids`` (finished)."""
    if not message_ids:
        return
    now = timezone.now()
    try:
        followers = list(
            Message.objects.filter(held_by_id__in=message_ids, status=MessageStatus.CREATED)
        )
        for follower in followers:
            moment = max(now, follower.send_after) if follower.send_after else now
            follower.next_attempt_at = due_time(channel=follower.channel, moment=moment)
            Message.objects.filter(pk=follower.pk, status=MessageStatus.CREATED).update(
                next_attempt_at=follower.next_attempt_at, updated_at=now
            )
            message_publish_on_commit(message=follower)
    except DATABASE_FAULTS:
        # They wake by themselves a little later (NOTIFICATIONS_ORDER_WAIT, the sweep).
        logger.warning("Could not wake the messages waiting for %s.", message_ids, exc_info=True)
