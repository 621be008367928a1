"""
Deliver one message: claim it under a row lock, send it through its channel, save the result.

``message_send`` is what the ``notifications.message_deliver`` task runs; it is safe to run
twice (package docstring: leases, identity, order).
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from notifications.constants import QUIET_CHANNELS, MessageStatus
from notifications.exceptions import DeliveryError
from notifications.models import Message
from notifications.ordering import thread_position
from notifications.rendering import message_render
from notifications.services.attempts import (
    DATABASE_FAULTS,
    attempt_interrupted,
    erase_secrets,
    finish,
    followers_wake,
    lease,
    lease_expired,
    write_retrying,
)
from notifications.services.channels import channel_fallback, channel_sender
from notifications.services.fallback import message_fall_back
from notifications.services.publishing import message_publish_on_commit
from notifications.timing import due_time, quiet_hours_end, retry_deadline, retry_delay

logger = logging.getLogger(__name__)


@dataclass
class DeliveryOutcome:
    """
    What one delivery attempt did: sent, retry, failed, fell_back (sent through another
    channel), possibly_sent, postponed (quiet hours), waiting (for an earlier message of its thread), superseded, unrecorded (sent,
    but the database would not record it), skipped or missing.
    """

    result: str
    message_id: int
    retry_in: float | None = None


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, DeliveryError):
        return error.permanent
    # A template that does not exist or does not compile will not fix itself.
    return isinstance(error, TemplateDoesNotExist | TemplateSyntaxError | ValueError | KeyError)


def message_send(*, message_id: int) -> DeliveryOutcome:
    """
    Deliver one message if it is waiting, due and first in its thread; safe to call twice.

    The message is claimed (``created`` → ``sending``, with a new attempt id and start time)
    under a row lock and the claim is committed before the network call, so no lock is held
    while the channel answers. A second run of the task finds it ``sending`` (left alone
    while the attempt's lease runs; taken over and sent again once it expired: the worker
    died) or ``sent``. The result is saved with retries on a fresh connection; a send is
    never recorded as a failure. Followers waiting in the thread are woken at the end.
    """
    now = timezone.now()
    finished: list[int] = []  # messages this call finished: their followers are woken

    def claim() -> tuple[Message | None, DeliveryOutcome | None]:
        finished.clear()
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("station")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return None, DeliveryOutcome("missing", message_id)
        if message.status == MessageStatus.SENDING and lease_expired(message, now=now):
            attempt_interrupted(message=message, now=now)
            if message.status == MessageStatus.POSSIBLY_SENT:
                finished.append(message.pk)
                return message, DeliveryOutcome("possibly_sent", message.pk)
        return message, _claim(message=message, now=now, finished=finished)

    # Nothing is sent yet: a dropped connection here costs a retry, not the message.
    message, outcome = write_retrying(claim, what=f"the claim of message {message_id}")
    followers_wake(message_ids=finished)
    if outcome is not None:
        return outcome
    try:
        rendered = message_render(message)
        reference = channel_sender(message.channel)(message, rendered)
    except Exception as error:
        return _attempt_failed(message=message, error=error)
    if not _sent_record(message=message, reference=reference):
        return DeliveryOutcome("unrecorded", message.pk)
    logger.info("Sent message %s (%s) to %s.", message.pk, message.template, message.channel)
    followers_wake(message_ids=[message.pk])
    return DeliveryOutcome("sent", message.pk)


def _claim(
    *, message: Message, now: datetime.datetime, finished: list[int]
) -> DeliveryOutcome | None:
    """
    Claim the locked ``message`` for a new attempt and return None; or return why not
    (not waiting or not due, quiet hours, superseded, waiting for an earlier message).
    Messages this finishes (dropped) are appended to ``finished``.
    """
    if message.status != MessageStatus.CREATED or message.next_attempt_at > now:
        return DeliveryOutcome("skipped", message.pk)
    if message.channel in QUIET_CHANNELS and (morning := quiet_hours_end(now)):
        message.next_attempt_at = morning
        message.save(update_fields=["next_attempt_at", "updated_at"])
        return DeliveryOutcome("postponed", message.pk)
    if message.thread:
        position = thread_position(pk=message.pk, template=message.template, thread=message.thread)
        for earlier, replaced_by in position.pointless:
            if _drop(message_id=earlier.pk, superseded_by=replaced_by):
                finished.append(earlier.pk)
        if position.superseded_by is not None:
            message.save(
                update_fields=finish(
                    message, MessageStatus.SUPERSEDED, superseded_by_id=position.superseded_by
                )
            )
            finished.append(message.pk)
            logger.info(
                "Message %s (%s) dropped: the later message %s makes it pointless.",
                message.pk,
                message.template,
                position.superseded_by,
            )
            return DeliveryOutcome("superseded", message.pk)
        if position.blocker is not None:
            return _hold(message=message, blocker=position.blocker, now=now)
    message.status = MessageStatus.SENDING
    message.attempts += 1
    message.first_attempt_at = message.first_attempt_at or now
    message.sending_started_at = now
    message.attempt_id = uuid.uuid4()
    message.held_by = None
    message.save(
        update_fields=[
            "status",
            "attempts",
            "first_attempt_at",
            "sending_started_at",
            "attempt_id",
            "held_by",
            "updated_at",
        ]
    )
    return None


def _drop(*, message_id: int, superseded_by: int) -> bool:
    """Drop the waiting message ``message_id`` that ``superseded_by`` made pointless."""
    # skip_locked: never wait for a row another attempt holds (no lock cycles); that
    # attempt sees the later message itself and drops its message.
    message = (
        Message.objects.select_for_update(skip_locked=True)
        .filter(pk=message_id, status=MessageStatus.CREATED)
        .first()
    )
    if message is None:
        return False
    message.save(
        update_fields=finish(message, MessageStatus.SUPERSEDED, superseded_by_id=superseded_by)
    )
    logger.info(
        "Message %s dropped: the later message %s makes it pointless.", message_id, superseded_by
    )
    return True


def _hold(*, message: Message, blocker, now: datetime.datetime) -> DeliveryOutcome:
    """Make ``message`` wait for ``blocker``, the earlier undelivered message of its thread."""
    if blocker.status == MessageStatus.SENDING:
        blocker_due = (blocker.sending_started_at or now) + lease()
    else:
        blocker_due = blocker.next_attempt_at
    # The blocker wakes its followers when it is finished; this is the fallback.
    wait_until = max(
        now + datetime.timedelta(seconds=settings.NOTIFICATIONS_ORDER_WAIT), blocker_due
    )
    message.held_by_id = blocker.pk
    message.next_attempt_at = wait_until
    message.save(update_fields=["held_by", "next_attempt_at", "updated_at"])
    message_publish_on_commit(message=message)
    return DeliveryOutcome("waiting", message.pk, retry_in=(wait_until - now).total_seconds())


def _sent_record(*, message: Message, reference: str) -> bool:
    """Save that ``message`` was sent, retrying on a fresh connection; return whether it was."""
    now = timezone.now()
    values = {
        "status": MessageStatus.SENT,
        "sent_at": now,
        "reference": (reference or "")[:100],
        "last_error": "",
        "context": erase_secrets(message.context),
        "secrets_erased": True,
        "held_by": None,
        "attempt_id": None,
        "sending_started_at": None,
        "updated_at": now,
    }
    try:
        # Whichever attempt holds it now: the channel took the message, so it is sent.
        write_retrying(
            lambda: (
                Message.objects.filter(pk=message.pk)
                .exclude(status=MessageStatus.SENT)
                .update(**values)
            ),
            what=f"that message {message.pk} was sent",
        )
    except DATABASE_FAULTS:
        logger.error(
            "Message %s was sent but that could not be saved: it stays 'sending' and, once "
            "its lease expires, is sent again with the same Message-ID.",
            message.pk,
            exc_info=True,
        )
        return False
    for name, value in values.items():
        setattr(message, name, value)
    return True


def _fallback_route(message: Message) -> tuple[str, str] | None:
    """Return the other route of a message its channel will not deliver, if it has one."""
    fallback = channel_fallback(message.channel)
    if fallback is None:
        return None
    try:
        return fallback(message)
    except Exception:
        logger.exception("Message %s: its fallback route could not be found.", message.pk)
        return None


def _attempt_failed(*, message: Message, error: Exception) -> DeliveryOutcome:
    """Record a failed attempt: retry later with backoff, or stop for good."""
    now = timezone.now()
    attempt = message.attempt_id
    text = f"{type(error).__name__}: {error}"[:2000]
    delay = retry_delay(message.attempts)
    permanent = _is_permanent(error)
    give_up = permanent or now + delay > retry_deadline(message.first_attempt_at, message.channel)
    if give_up and (route := _fallback_route(message)):
        replacement = message_fall_back(
            message=message, attempt=attempt, route=route, error_text=text
        )
        if replacement is None:
            logger.info(
                "Message %s: another attempt holds it now; this one's: %s", message.pk, text
            )
            return DeliveryOutcome("skipped", message.pk)
        followers_wake(message_ids=[message.pk])
        return DeliveryOutcome("fell_back", message.pk)
    message.last_error = text
    if give_up:
        # An earlier attempt that stopped without a result may have reached the recipient.
        status = (
            MessageStatus.POSSIBLY_SENT
            if message.uncertain_attempts and not permanent
            else MessageStatus.FAILED
        )
        fields = [*finish(message, status), "last_error"]
        result = "failed" if status == MessageStatus.FAILED else "possibly_sent"
    else:
        message.status = MessageStatus.CREATED
        message.next_attempt_at = due_time(channel=message.channel, moment=now + delay)
        message.attempt_id = None
        message.sending_started_at = None
        fields = [
            "status",
            "last_error",
            "next_attempt_at",
            "attempt_id",
            "sending_started_at",
            "updated_at",
        ]
        result = "retry"
    message.updated_at = now
    values = {name: getattr(message, name) for name in fields}
    written = write_retrying(
        # Only if this attempt still holds the message (no other took it over meanwhile).
        lambda: Message.objects.filter(
            pk=message.pk, status=MessageStatus.SENDING, attempt_id=attempt
        ).update(**values),
        what=f"the failed attempt of message {message.pk}",
    )
    if not written:
        logger.info(
            "Message %s: another attempt holds it now; this one's error: %s", message.pk, text
        )
        return DeliveryOutcome("skipped", message.pk)
    if give_up:
        logger.error("Message %s stopped (%s): %s", message.pk, status, text)
        followers_wake(message_ids=[message.pk])
        return DeliveryOutcome(result, message.pk)
    logger.warning("Message %s will be tried again in %s: %s", message.pk, delay, text)
    message_publish_on_commit(message=message)
    return DeliveryOutcome("retry", message.pk, retry_in=delay.total_seconds())
