"""Record messages in the outbox, in the caller's transaction; deliver after commit."""

import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from notifications.constants import MESSAGE_CHANNELS, WORKSPACE_CHANNEL, Channel
from notifications.models import Message
from notifications.ordering import thread_key
from notifications.rendering import language_resolve
from notifications.services.publishing import (
    message_publish_many_on_commit,
    message_publish_on_commit,
)
from notifications.timing import due_time


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


def staff_message_spec(
    *,
    user,
    template: str,
    language: str,
    context: dict,
    key: str,
    station=None,
    concerning=None,
) -> MessageSpec:
    """
    Return the message to the staff member ``user``: by email, or, for staff without an
    email address, in the staff workspace ("My notifications" on the dashboard).
    """
    channel, to = (Channel.EMAIL, user.email) if user.email else (WORKSPACE_CHANNEL, str(user.pk))
    return MessageSpec(
        template=template,
        language=language,
        channel=channel,
        to=to,
        context=context,
        idempotency_key=key,
        station=station,
        concerning=concerning,
        recipient_name=user.get_full_name() or user.get_username(),
    )


def _message_fields(spec: MessageSpec, *, now: datetime.datetime) -> dict:
    """Check ``spec`` and return the field values of its new outbox row (no query, but the
    content type of ``concerning``, which Django caches)."""
    if spec.channel not in MESSAGE_CHANNELS:
        raise ValueError(f"Unknown channel {spec.channel!r}; use one of {MESSAGE_CHANNELS}.")
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
        "next_attempt_at": due_time(channel=spec.channel, moment=due),
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
