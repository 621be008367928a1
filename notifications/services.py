"""
Writes of the notifications app: record messages, deliver them, retry, cancel, sweep.

Other apps call ``message_queue`` inside their own transaction; everything else is driven by
the Celery tasks in ``notifications.tasks`` and by the admin.
"""

import datetime
import json
import logging
import smtplib
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
from django.db import transaction
from django.db.models import Q
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.utils import timezone

from notifications import sms
from notifications.constants import SECRET_PREFIX, Channel, ErrorCode, MessageStatus
from notifications.exceptions import DeliveryError, PermanentDeliveryError
from notifications.models import Message
from notifications.rendering import language_resolve, message_render, station_name
from notifications.timing import quiet_hours_end, retry_deadline, retry_delay

logger = logging.getLogger(__name__)


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
        fields["concerning_type"] = ContentType.objects.get_for_model(spec.concerning)
        fields["concerning_id"] = str(spec.concerning.pk)
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
        transaction.on_commit(lambda: _publish_groups(groups))


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
    transaction.on_commit(lambda: message_publish(message_id=message_id, countdown=max(0, delay)))


def message_publish(*, message_id: int, countdown: float = 0, mark: bool = True) -> bool:
    """
    Publish the delivery task of a message; return whether the broker took it.

    Never raises: when the broker is down the message stays ``created`` in the outbox and
    ``messages_sweep`` publishes it again later. Publishing uses short timeouts (settings).
    ``mark=False`` leaves ``published_at`` alone (a batch already set it).
    """
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
        Message.objects.filter(pk=message_id, status=MessageStatus.CREATED).update(
            published_at=timezone.now()
        )
    return True


def message_publish_many(*, message_ids: list[int], countdown: float = 0) -> bool:
    """
    Publish the delivery of many messages as one task; return whether the broker took it.

    The task (``notifications.messages_deliver_batch``) hands each message its own delivery
    task in the worker, so retries and acknowledgements stay per message. Never raises:
    when the broker is down the messages stay ``created`` and ``messages_sweep`` publishes
    them again later.
    """
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
    Message.objects.filter(pk__in=message_ids, status=MessageStatus.CREATED).update(
        published_at=timezone.now()
    )
    return True


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
    """What one delivery attempt did: sent, retry, failed, postponed, skipped or missing."""

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
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=sender,
        to=[message.to],
        reply_to=reply_to,
        headers={"X-Linli-Message": message.idempotency_key[:200]},
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
    return ""


def _sms_send(message: Message, rendered) -> str:
    try:
        number = phonenumbers.parse(message.to, None)
    except phonenumbers.NumberParseException as error:
        raise PermanentDeliveryError(f"Not a phone number: {message.to!r}") from error
    if not phonenumbers.is_possible_number(number):
        raise PermanentDeliveryError(f"Not a possible phone number: {message.to!r}")
    sender = station_name(message.station, message.language) if message.station_id else "Linli"
    return sms.send_sms(to=message.to, body=rendered.text, sender=sender)


# One sender per channel; a WeChat official-account channel adds its function here.
CHANNEL_SENDERS = {Channel.EMAIL: _email_send, Channel.SMS: _sms_send}


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, DeliveryError):
        return error.permanent
    # A template that does not exist or does not compile will not fix itself.
    return isinstance(error, TemplateDoesNotExist | TemplateSyntaxError | ValueError | KeyError)


def message_send(*, message_id: int) -> DeliveryOutcome:
    """
    Deliver one message if it is still waiting and due; safe to call twice.

    The message is claimed (``created`` → ``sending``) under a row lock, so a second run of
    the same task finds it ``sending`` or ``sent`` and does nothing. The network call happens
    after the claim is committed, so no lock is held while the channel answers.
    """
    now = timezone.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("station")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return DeliveryOutcome("missing", message_id)
        if message.status != MessageStatus.CREATED or message.next_attempt_at > now:
            return DeliveryOutcome("skipped", message_id)
        if message.channel == Channel.SMS and (morning := quiet_hours_end(now)):
            message.next_attempt_at = morning
            message.save(update_fields=["next_attempt_at", "updated_at"])
            return DeliveryOutcome("postponed", message_id)
        message.status = MessageStatus.SENDING
        message.attempts += 1
        message.first_attempt_at = message.first_attempt_at or now
        message.save(update_fields=["status", "attempts", "first_attempt_at", "updated_at"])
    try:
        rendered = message_render(message)
        reference = CHANNEL_SENDERS[message.channel](message, rendered)
    except Exception as error:
        return _attempt_failed(message=message, error=error)
    message.status = MessageStatus.SENT
    message.sent_at = timezone.now()
    message.reference = (reference or "")[:100]
    message.last_error = ""
    message.context = _erase_secrets(message.context)
    message.secrets_erased = True
    message.save(
        update_fields=[
            "status",
            "sent_at",
            "reference",
            "last_error",
            "context",
            "secrets_erased",
            "updated_at",
        ]
    )
    logger.info("Sent message %s (%s) to %s.", message.pk, message.template, message.channel)
    return DeliveryOutcome("sent", message.pk)


def _attempt_failed(*, message: Message, error: Exception) -> DeliveryOutcome:
    """Record a failed attempt: retry later with backoff, or fail for good."""
    now = timezone.now()
    text = f"{type(error).__name__}: {error}"[:2000]
    delay = retry_delay(message.attempts)
    give_up = _is_permanent(error) or now + delay > retry_deadline(message.first_attempt_at)
    message.last_error = text
    if give_up:
        logger.error("Message %s failed for good: %s", message.pk, text)
        message.status = MessageStatus.FAILED
        message.context = _erase_secrets(message.context)
        message.secrets_erased = True
        message.save(
            update_fields=["status", "last_error", "context", "secrets_erased", "updated_at"]
        )
        return DeliveryOutcome("failed", message.pk)
    logger.warning("Message %s will be tried again in %s: %s", message.pk, delay, text)
    message.status = MessageStatus.CREATED
    message.next_attempt_at = _due_time(channel=message.channel, moment=now + delay)
    message.save(update_fields=["status", "last_error", "next_attempt_at", "updated_at"])
    message_publish_on_commit(message=message)
    return DeliveryOutcome("retry", message.pk, retry_in=delay.total_seconds())


@dataclass
class SweepOutcome:
    """What a sweep did: messages handed to the queue again, and stuck ones given up."""

    published: int = 0
    unpublished: int = 0
    interrupted: int = 0


def messages_sweep(
    *, older_than: datetime.timedelta | None = None, limit: int | None = None
) -> SweepOutcome:
    """
    Hand to the queue again the due messages whose task was lost (broker down, restart).

    A message counts as lost when it is due and was never published, or was published more
    than ``older_than`` (``NOTIFICATIONS_SWEEP_AFTER`` seconds) ago. A second task for a
    message already delivered does nothing. Messages left ``sending`` far longer than a task
    may run (worker killed mid-send) are marked failed for staff to check and retry: they may
    have been sent, and sending twice is worse than asking a person.
    """
    now = timezone.now()
    if older_than is None:
        older_than = datetime.timedelta(seconds=settings.NOTIFICATIONS_SWEEP_AFTER)
    limit = limit or settings.NOTIFICATIONS_SWEEP_BATCH
    stale = now - older_than
    outcome = SweepOutcome()
    stuck_before = now - datetime.timedelta(seconds=settings.NOTIFICATIONS_STUCK_AFTER)
    with transaction.atomic():
        stuck = Message.objects.select_for_update().filter(
            status=MessageStatus.SENDING, updated_at__lt=stuck_before
        )[:limit]
        for message in stuck:
            message.status = MessageStatus.FAILED
            message.last_error = (
                "Delivery was interrupted (worker stopped); the message may or may not have "
                "been sent. Check with the recipient before sending it again."
            )
            message.context = _erase_secrets(message.context)
            message.secrets_erased = True
            message.save(
                update_fields=["status", "last_error", "context", "secrets_erased", "updated_at"]
            )
            outcome.interrupted += 1
    lost = (
        Message.objects.due(now)
        .filter(Q(published_at__isnull=True, created_at__lte=stale) | Q(published_at__lte=stale))
        .order_by("next_attempt_at")
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
    """Send a failed or cancelled message again, now (staff action)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message.pk)
        if message.status not in (MessageStatus.FAILED, MessageStatus.CANCELLED):
            raise ValidationError(ErrorCode.NOT_RETRYABLE.label, code=ErrorCode.NOT_RETRYABLE)
        message.status = MessageStatus.CREATED
        message.next_attempt_at = _due_time(channel=message.channel, moment=timezone.now())
        message.first_attempt_at = None
        message.published_at = None
        message.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "first_attempt_at",
                "published_at",
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
        message.status = MessageStatus.CANCELLED
        message.context = _erase_secrets(message.context)
        message.secrets_erased = True
        message.save(update_fields=["status", "context", "secrets_erased", "updated_at"])
    return message
