"""
Writes of the notifications app: record messages, deliver them, retry, cancel, sweep.

Other apps call ``message_queue`` inside their own transaction; everything else is driven by
the Celery tasks in ``notifications.tasks`` and by the admin.

Delivery is at least once, never zero times, and in order within a thread:

- an attempt claims a message (``sending``) for a lease (``NOTIFICATIONS_SENDING_LEASE``);
  if its worker dies, a redelivered task or the sweep takes the message over once the lease
  expired and sends it again, with the same identity (``notifications.identity``: the
  email's Message-ID, the SMS gateway's key) so that a duplicate can be dropped downstream;
  after ``NOTIFICATIONS_MAX_INTERRUPTED`` such attempts the message stops as "may have
  been sent" for staff to decide;
- the result of a successful send is saved with a bounded retry on a fresh database
  connection; a send is never recorded as a failure;
- a message waits for the earlier undelivered messages of its thread, and a message that
  a later one made pointless is dropped (``notifications.ordering``).
"""

import contextlib
import datetime
import json
import logging
import smtplib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formataddr, parseaddr
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import DatabaseError, InterfaceError, connections, transaction
from django.db.models import Q
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from notifications import sms
from notifications.constants import (
    RETRYABLE_STATUSES,
    SECRET_PREFIX,
    Channel,
    ErrorCode,
    MessageStatus,
)
from notifications.exceptions import DeliveryError, PermanentDeliveryError
from notifications.identity import email_message_id, message_identity
from notifications.models import Message
from notifications.ordering import thread_key, thread_position
from notifications.rendering import language_resolve, message_render, station_name
from notifications.timing import quiet_hours_end, retry_deadline, retry_delay

logger = logging.getLogger(__name__)

# What a dropped connection or a restarting database server raises.
DATABASE_FAULTS = (DatabaseError, InterfaceError)


def _due_time(*, channel: str, moment: datetime.datetime) -> datetime.datetime:
    """Return ``moment``, moved to the end of the quiet hours for text messages."""
    if channel == Channel.SMS:
        return quiet_hours_end(moment) or moment
    return moment


def _erase_secrets(context: dict) -> dict:
    return {
        key: value for key, value in (context or {}).items() if not key.startswith(SECRET_PREFIX)
    }


@dataclass(frozen=True)
class MessageSpec:
    """One message to record, for ``message_queue_many``: the arguments of ``message_queue``."""

    template: str
    language: str
    channel: str
    to: str
    context: dict
    idempotency_key: str
    station: Any = None
    concerning: Any = None
    send_after: datetime.datetime | None = None
    recipient_name: str = ""


def _message_fields(spec: MessageSpec, *, now: datetime.datetime) -> dict:
    """Check ``spec`` and return the field values of its new outbox row (no query, but the
    content type of ``concerning``, which Django caches)."""
    if spec.channel not in Channel.values:
        raise ValueError(f"Unknown channel {spec.channel!r}; use one of {Channel.values}.")
    if not spec.idempotency_key or len(spec.idempotency_key) > 255:
        raise ValueError("idempotency_key must be 1 to 255 characters long.")
    if not spec.template:
        raise ValueError("template must name a message template, e.g. 'registration/confirmation'.")
    # Fails early on values JSON cannot hold.
    context = json.loads(json.dumps(spec.context or {}))
    due = max(now, spec.send_after) if spec.send_after else now
    fields = {
        "template": spec.template,
        "language": language_resolve(spec.language),
        "channel": spec.channel,
        "to": (spec.to or "").strip(),
        "recipient_name": spec.recipient_name or "",
        "context": context,
        "station": spec.station,
        "send_after": spec.send_after,
        "next_attempt_at": _due_time(channel=spec.channel, moment=due),
    }
    if spec.concerning is not None:
        content_type = ContentType.objects.get_for_model(spec.concerning)
        fields["concerning_type"] = content_type
        fields["concerning_id"] = str(spec.concerning.pk)
        # Messages about one record to one recipient are delivered in the order made.
        fields["thread"] = thread_key(
            subject=f"{content_type.app_label}.{content_type.model}:{spec.concerning.pk}",
            channel=spec.channel,
            to=fields["to"],
        )
    return fields


def message_queue(
    *,
    template: str,
    language: str,
    channel: str,
    to: str,
    context: dict,
    idempotency_key: str,
    station=None,
    concerning=None,
    send_after: datetime.datetime | None = None,
    recipient_name: str = "",
) -> Message:
    """
    Record a message in the outbox in the caller's transaction; deliver after commit.

    If a message with ``idempotency_key`` exists, return it unchanged (no duplicate).
    The returned message's ``newly_queued`` attribute says which happened (rules count it).
    ``context`` must be JSON-serialisable; its ``secret_…`` keys are erased once the
    message is sent, failed or cancelled. Text messages are not sent during quiet hours.
    Many messages at once (reminder rules): ``message_queue_many``.
    """
    spec = MessageSpec(
        template=template,
        language=language,
        channel=channel,
        to=to,
        context=context,
        idempotency_key=idempotency_key,
        station=station,
        concerning=concerning,
        send_after=send_after,
        recipient_name=recipient_name,
    )
    defaults = _message_fields(spec, now=timezone.now())
    with transaction.atomic():
        message, created = Message.objects.get_or_create(
            idempotency_key=idempotency_key, defaults=defaults
        )
    message.newly_queued = created
    if created:
        message_publish_on_commit(message=message)
    return message


QUEUE_CHUNK = 500


def message_queue_many(
    *, messages: Iterable[MessageSpec], chunk_size: int = QUEUE_CHUNK
) -> list[Message]:
    """
    Record many messages in the caller's transaction, a chunk at a time; deliver after commit.

    The set-based ``message_queue``: per chunk of ``chunk_size`` specs, one query for the
    idempotency keys already in the outbox, one multi-row INSERT that skips keys another
    process recorded meanwhile, one query for the new rows' ids, and one on-commit callback
    that publishes their delivery in a few broker calls (``message_publish_many``).
    Return one message per distinct key, in order; ``newly_queued`` says whether this call
    recorded it (a repeated key in ``messages`` is recorded once, the first spec wins).
    ``messages`` may be a generator: it is consumed one chunk at a time.
    """
    result: list[Message] = []
    chunk: list[MessageSpec] = []
    for spec in messages:
        chunk.append(spec)
        if len(chunk) >= chunk_size:
            result += _message_queue_chunk(chunk)
            chunk = []
    if chunk:
        result += _message_queue_chunk(chunk)
    return result


def _message_queue_chunk(specs: list[MessageSpec]) -> list[Message]:
    now = timezone.now()
    wanted: dict[str, MessageSpec] = {}
    for spec in specs:
        wanted.setdefault(spec.idempotency_key, spec)
    fields = {key: _message_fields(spec, now=now) for key, spec in wanted.items()}
    with transaction.atomic():
        found = {m.idempotency_key: m for m in Message.objects.filter(idempotency_key__in=wanted)}
        new = [
            Message(idempotency_key=key, **values)
            for key, values in fields.items()
            if key not in found
        ]
        if new:
            # Keys recorded by another process since the query above are skipped, not doubled.
            Message.objects.bulk_create(new, ignore_conflicts=True)
            # ignore_conflicts returns no ids: read them back. A row whose creation time is
            # not ours was recorded by someone else in that moment (a race): it is theirs.
            rows = Message.objects.filter(
                idempotency_key__in=[m.idempotency_key for m in new]
            ).values_list("idempotency_key", "pk", "created_at")
            ids = {key: (pk, created_at) for key, pk, created_at in rows}
            theirs = []
            for message in new:
                pk, created_at = ids[message.idempotency_key]
                if created_at == message.created_at:
                    message.pk = message.id = pk
                    message._state.adding = False
                    message._state.db = Message.objects.db
                    message.newly_queued = True
                    found[message.idempotency_key] = message
                else:
                    theirs.append(pk)
            for message in Message.objects.filter(pk__in=theirs):
                found[message.idempotency_key] = message
        queued = [m for m in found.values() if getattr(m, "newly_queued", False)]
        for message in found.values():
            message.newly_queued = getattr(message, "newly_queued", False)
        if queued:
            message_publish_many_on_commit(messages=queued)
    return [found[key] for key in wanted]


def message_publish_many_on_commit(*, messages: list[Message]) -> None:
    """Hand ``messages`` to the task queue in one callback once the transaction commits."""
    now = timezone.now()
    # One task per due moment (now; the end of the quiet hours for text messages).
    groups: dict[float, list[int]] = {}
    for message in messages:
        delay = max(0.0, (message.next_attempt_at - now).total_seconds())
        if delay > settings.NOTIFICATIONS_MAX_COUNTDOWN:
            continue  # the sweep hands it over when it is due
        groups.setdefault(round(delay), []).append(message.pk)
    if groups:
        # Robust: the registration is already stored; a failure here must not become a
        # 500 for it (the sweep publishes whatever was not handed over).
        transaction.on_commit(lambda: _publish_groups(groups), robust=True)


def _publish_groups(groups: dict[float, list[int]]) -> None:
    for countdown, message_ids in groups.items():
        if not message_publish_many(message_ids=message_ids, countdown=countdown):
            return  # the broker is away; the sweep publishes the rest later


def message_publish_on_commit(*, message: Message) -> None:
    """Hand ``message`` to the task queue once the current transaction commits, if it is due soon."""
    delay = (message.next_attempt_at - timezone.now()).total_seconds()
    if delay > settings.NOTIFICATIONS_MAX_COUNTDOWN:
        return  # the sweep hands it over when it is due
    message_id = message.pk
    transaction.on_commit(
        lambda: message_publish(message_id=message_id, countdown=max(0, delay)), robust=True
    )


def message_publish(*, message_id: int, countdown: float = 0, mark: bool = True) -> bool:
    """
    Publish the delivery task of a message; return whether the broker took it.

    Never raises: when the broker is down the message stays ``created`` in the outbox and
    ``messages_sweep`` publishes it again later. Publishing uses short timeouts (settings).
    ``mark=False`` leaves ``published_at`` alone (a batch already set it).
    """
    # Cycle: notifications.tasks imports this module.
    from notifications.tasks import message_deliver

    try:
        message_deliver.apply_async(args=[message_id], countdown=countdown or None)
    except Exception:
        logger.warning(
            "Could not publish delivery of message %s; the sweep will retry.",
            message_id,
            exc_info=True,
        )
        return False
    if mark:
        _published_mark(message_ids=[message_id])
    return True


def message_publish_many(*, message_ids: list[int], countdown: float = 0) -> bool:
    """
    Publish the delivery of many messages as one task; return whether the broker took it.

    The task (``notifications.messages_deliver_batch``) hands each message its own delivery
    task in the worker, so retries and acknowledgements stay per message. Never raises:
    when the broker is down the messages stay ``created`` and ``messages_sweep`` publishes
    them again later.
    """
    # Cycle: notifications.tasks imports this module.
    from notifications.tasks import messages_deliver_batch

    if not message_ids:
        return True
    try:
        messages_deliver_batch.apply_async(args=[list(message_ids)], countdown=countdown or None)
    except Exception:
        logger.warning(
            "Could not publish delivery of %s messages (%s…); the sweep will retry.",
            len(message_ids),
            message_ids[0],
            exc_info=True,
        )
        return False
    _published_mark(message_ids=message_ids)
    return True


def _published_mark(*, message_ids: list[int]) -> None:
    """
    Note when ``message_ids`` were handed to the broker. Best effort: the task is already
    queued, and a lost mark only lets the sweep publish them once more, which the delivery
    task ignores for a message already sent (never a 500 after a stored submission).
    """
    try:
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.CREATED).update(
            published_at=timezone.now()
        )
    except DatabaseError:
        logger.warning("Could not note that messages %s were published.", message_ids)


def messages_publish_each(*, message_ids: list[int]) -> int:
    """
    Publish one delivery task per message (in the worker, for a batch); return how many.

    Stops at the first broker error: the rest stay ``created`` for the sweep.
    """
    for done, message_id in enumerate(message_ids):
        if not message_publish(message_id=message_id, mark=False):
            return done
    return len(message_ids)


@dataclass
class DeliveryOutcome:
    """
    What one delivery attempt did: sent, retry, failed, possibly_sent, postponed (quiet
    hours), waiting (for an earlier message of its thread), superseded, unrecorded (sent,
    but the database would not record it), skipped or missing.
    """

    result: str
    message_id: int
    retry_in: float | None = None


def _email_send(message: Message, rendered) -> str:
    try:
        validate_email(message.to)
    except ValidationError as error:
        raise PermanentDeliveryError(f"Not an email address: {message.to!r}") from error
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    if message.station_id:
        sender = formataddr((station_name(message.station, message.language), address))
        reply_to = [message.station.email] if message.station.email else []
    else:
        sender, reply_to = settings.DEFAULT_FROM_EMAIL, []
    # The same Message-ID on every attempt: a second copy (worker killed after the mail
    # server took the first) is recognisably the same message.
    message_id = email_message_id(message.idempotency_key)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender,
        to=[message.to],
        reply_to=reply_to,
        headers={"Message-ID": message_id, "X-Linli-Message": message.idempotency_key[:200]},
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    try:
        email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        raise PermanentDeliveryError(f"Address refused: {error}") from error
    except smtplib.SMTPResponseException as error:
        text = f"Mail server answered {error.smtp_code}: {error.smtp_error!r}"
        if 500 <= error.smtp_code < 600:
            raise PermanentDeliveryError(text) from error
        raise DeliveryError(text) from error
    return message_id


def _sms_send(message: Message, rendered) -> str:
    try:
        number = phonenumbers.parse(message.to, None)
    except phonenumbers.NumberParseException as error:
        raise PermanentDeliveryError(f"Not a phone number: {message.to!r}") from error
    if not phonenumbers.is_possible_number(number):
        raise PermanentDeliveryError(f"Not a possible phone number: {message.to!r}")
    sender = station_name(message.station, message.language) if message.station_id else "Linli"
    return sms.send_sms(
        to=message.to,
        body=rendered.text,
        sender=sender,
        key=message_identity(message.idempotency_key),
    )


# One sender per channel; a WeChat official-account channel adds its function here.
CHANNEL_SENDERS = {Channel.EMAIL: _email_send, Channel.SMS: _sms_send}


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, DeliveryError):
        return error.permanent
    # A template that does not exist or does not compile will not fix itself.
    return isinstance(error, TemplateDoesNotExist | TemplateSyntaxError | ValueError | KeyError)


# Saving the result of an attempt: tries, and the first wait between them (doubling).
SAVE_TRIES = 5
SAVE_BACKOFF = 0.2


def _write_retrying(write, *, what: str):
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


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.NOTIFICATIONS_SENDING_LEASE)


def _lease_expired(message: Message, *, now: datetime.datetime) -> bool:
    # Rows claimed before leases existed have no start time: their last change stands in.
    started = message.sending_started_at or message.updated_at
    return started <= now - _lease()


def _finish(message: Message, status: str, **values) -> list[str]:
    """Put ``message`` in the final ``status`` (not saved); return the fields to save."""
    message.status = status
    message.context = _erase_secrets(message.context)
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


def _attempt_interrupted(*, message: Message, now: datetime.datetime) -> None:
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
        fields = _finish(message, MessageStatus.POSSIBLY_SENT)
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
        message.next_attempt_at = _due_time(channel=message.channel, moment=now)
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
        if message.status == MessageStatus.SENDING and _lease_expired(message, now=now):
            _attempt_interrupted(message=message, now=now)
            if message.status == MessageStatus.POSSIBLY_SENT:
                finished.append(message.pk)
                return message, DeliveryOutcome("possibly_sent", message.pk)
        return message, _claim(message=message, now=now, finished=finished)

    # Nothing is sent yet: a dropped connection here costs a retry, not the message.
    message, outcome = _write_retrying(claim, what=f"the claim of message {message_id}")
    _followers_wake(message_ids=finished)
    if outcome is not None:
        return outcome
    try:
        rendered = message_render(message)
        reference = CHANNEL_SENDERS[message.channel](message, rendered)
    except Exception as error:
        return _attempt_failed(message=message, error=error)
    if not _sent_record(message=message, reference=reference):
        return DeliveryOutcome("unrecorded", message.pk)
    logger.info("Sent message %s (%s) to %s.", message.pk, message.template, message.channel)
    _followers_wake(message_ids=[message.pk])
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
    if message.channel == Channel.SMS and (morning := quiet_hours_end(now)):
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
                update_fields=_finish(
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
        update_fields=_finish(message, MessageStatus.SUPERSEDED, superseded_by_id=superseded_by)
    )
    logger.info(
        "Message %s dropped: the later message %s makes it pointless.", message_id, superseded_by
    )
    return True


def _hold(*, message: Message, blocker, now: datetime.datetime) -> DeliveryOutcome:
    """Make ``message`` wait for ``blocker``, the earlier undelivered message of its thread."""
    if blocker.status == MessageStatus.SENDING:
        blocker_due = (blocker.sending_started_at or now) + _lease()
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


def _followers_wake(*, message_ids: list[int]) -> None:
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
            follower.next_attempt_at = _due_time(channel=follower.channel, moment=moment)
            Message.objects.filter(pk=follower.pk, status=MessageStatus.CREATED).update(
                next_attempt_at=follower.next_attempt_at, updated_at=now
            )
            message_publish_on_commit(message=follower)
    except DATABASE_FAULTS:
        # They wake by themselves a little later (NOTIFICATIONS_ORDER_WAIT, the sweep).
        logger.warning("Could not wake the messages waiting for %s.", message_ids, exc_info=True)


def _sent_record(*, message: Message, reference: str) -> bool:
    """Save that ``message`` was sent, retrying on a fresh connection; return whether it was."""
    now = timezone.now()
    values = {
        "status": MessageStatus.SENT,
        "sent_at": now,
        "reference": (reference or "")[:100],
        "last_error": "",
        "context": _erase_secrets(message.context),
        "secrets_erased": True,
        "held_by": None,
        "attempt_id": None,
        "sending_started_at": None,
        "updated_at": now,
    }
    try:
        # Whichever attempt holds it now: the channel took the message, so it is sent.
        _write_retrying(
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


def _attempt_failed(*, message: Message, error: Exception) -> DeliveryOutcome:
    """Record a failed attempt: retry later with backoff, or stop for good."""
    now = timezone.now()
    attempt = message.attempt_id
    text = f"{type(error).__name__}: {error}"[:2000]
    delay = retry_delay(message.attempts)
    permanent = _is_permanent(error)
    give_up = permanent or now + delay > retry_deadline(message.first_attempt_at)
    message.last_error = text
    if give_up:
        # An earlier attempt that stopped without a result may have reached the recipient.
        status = (
            MessageStatus.POSSIBLY_SENT
            if message.uncertain_attempts and not permanent
            else MessageStatus.FAILED
        )
        fields = [*_finish(message, status), "last_error"]
        result = "failed" if status == MessageStatus.FAILED else "possibly_sent"
    else:
        message.status = MessageStatus.CREATED
        message.next_attempt_at = _due_time(channel=message.channel, moment=now + delay)
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
    written = _write_retrying(
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
        _followers_wake(message_ids=[message.pk])
        return DeliveryOutcome(result, message.pk)
    logger.warning("Message %s will be tried again in %s: %s", message.pk, delay, text)
    message_publish_on_commit(message=message)
    return DeliveryOutcome("retry", message.pk, retry_in=delay.total_seconds())


@dataclass
class SweepOutcome:
    """
    What a sweep did: tasks handed to the queue (or not: broker away), attempts whose
    worker died queued again, and messages stopped as "may have been sent".
    """

    published: int = 0
    unpublished: int = 0
    interrupted: int = 0
    possibly_sent: int = 0


def messages_sweep(
    *, older_than: datetime.timedelta | None = None, limit: int | None = None
) -> SweepOutcome:
    """
    Take over attempts whose worker died, and hand lost messages to the queue again.

    An attempt is taken over when its message has been ``sending`` longer than the lease
    (``NOTIFICATIONS_SENDING_LEASE``, twice the time a delivery task may run, and far below
    the broker's visibility timeout): the message is queued again at once and sent with the
    same identity, or stopped as "may have been sent" after too many such attempts.
    A message counts as lost when it is due and was never published, or was published more
    than ``older_than`` (``NOTIFICATIONS_SWEEP_AFTER`` seconds) ago. A second task for a
    message already delivered does nothing.
    """
    now = timezone.now()
    if older_than is None:
        older_than = datetime.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER)
    limit = limit or settings.NOTIFICATIONS_SWEEP_BATCH
    stale = now - older_than
    expired = now - _lease()
    outcome = SweepOutcome()
    requeued: list[int] = []
    finished: list[int] = []
    with transaction.atomic():
        stuck = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(status=MessageStatus.SENDING)
            .filter(
                Q(sending_started_at__lte=expired)
                | Q(sending_started_at__isnull=True, updated_at__lte=expired)
            )
            .order_by("pk")[:limit]
        )
        for message in stuck:
            _attempt_interrupted(message=message, now=now)
            if message.status == MessageStatus.POSSIBLY_SENT:
                outcome.possibly_sent += 1
                finished.append(message.pk)
            else:
                outcome.interrupted += 1
                requeued.append(message.pk)
    _followers_wake(message_ids=finished)
    lost = (
        Message.objects.due(now)
        .filter(
            Q(pk__in=requeued)
            | Q(published_at__isnull=True, created_at__lte=stale)
            | Q(published_at__lte=stale)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    for message_id in list(lost):
        if message_publish(message_id=message_id):
            outcome.published += 1
        else:
            outcome.unpublished += 1
            break  # the broker is still away; the next sweep tries again
    return outcome


def message_retry(*, message: Message) -> Message:
    """
    Send a failed, cancelled or possibly sent message again, now (staff action).

    A possibly sent message may reach its recipient twice (with the same Message-ID): the
    admin asks staff to confirm first.
    """
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status not in RETRYABLE_STATUSES:
            raise ValidationError(ErrorCode.NOT_RETRYABLE.label, code=ErrorCode.NOT_RETRYABLE)
        message.status = MessageStatus.CREATED
        message.next_attempt_at = _due_time(channel=message.channel, moment=timezone.now())
        message.first_attempt_at = None
        message.published_at = None
        message.held_by = None
        message.uncertain_attempts = 0
        message.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "first_attempt_at",
                "published_at",
                "held_by",
                "uncertain_attempts",
                "updated_at",
            ]
        )
        message_publish_on_commit(message=message)
    return message


def message_cancel(*, message: Message) -> Message:
    """Stop a message that waits to be sent (staff action); its private values are erased."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status != MessageStatus.CREATED:
            raise ValidationError(ErrorCode.NOT_CANCELLABLE.label, code=ErrorCode.NOT_CANCELLABLE)
        message.save(update_fields=_finish(message, MessageStatus.CANCELLED))
        message_id = message.pk
        # The messages waiting for this one in its thread need not wait any more.
        transaction.on_commit(lambda: _followers_wake(message_ids=[message_id]))
    return message
