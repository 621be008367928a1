"""
Hand delivery tasks to the broker, after commit; never raise when the broker is away.

A message not handed over stays ``created`` in the outbox, and ``messages_sweep``
publishes it later.
"""

import datetime
import logging

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from notifications.constants import MessageStatus
from notifications.models import Message

logger = logging.getLogger(__name__)


def message_publish_many_on_commit(*, messages: list[Message]) -> None:
    """Hand ``messages`` to the task queue in one callback once the transaction commits."""
    message_publish_due_on_commit(due=[(m.pk, m.next_attempt_at) for m in messages])


def message_publish_due_on_commit(
    *, due: list[tuple[int, datetime.datetime]], marked: bool = False
) -> None:
    """
    ``message_publish_many_on_commit`` for ``(id, next_attempt_at)`` pairs, as an
    ``INSERT … RETURNING`` gives them (no model instance per message). ``marked``: the
    insert already set ``published_at`` of those due within ``NOTIFICATIONS_MAX_COUNTDOWN``
    (no second write of each row); should the broker be away, it is cleared again.
    """
    moments: dict[datetime.datetime, list[int]] = {}
    for pk, next_attempt_at in due:
        moments.setdefault(next_attempt_at, []).append(pk)
    message_publish_moments_on_commit(moments=moments, marked=marked)


def message_publish_moments_on_commit(
    *, moments: dict[datetime.datetime, list[int]], marked: bool = False
) -> None:
    """``message_publish_due_on_commit`` for ids already grouped by when they are due."""
    now = timezone.now()
    # One task per due moment (now; the end of the quiet hours for text messages).
    groups: dict[float, list[int]] = {}
    for next_attempt_at, ids in moments.items():
        delay = max(0.0, (next_attempt_at - now).total_seconds())
        if delay > settings.NOTIFICATIONS_MAX_COUNTDOWN:
            continue  # the sweep hands it over when it is due
        groups.setdefault(round(delay), []).extend(ids)
    if groups:
        # Robust: the registration is already stored; a failure here must not become a
        # 500 for it (the sweep publishes whatever was not handed over).
        transaction.on_commit(lambda: _publish_groups(groups, marked=marked), robust=True)


# Messages a delivery task hands over at most: a reminder rule records all its messages in
# one statement (tens of thousands in a big city), the broker gets tasks of this size.
PUBLISH_BATCH = 2000


def _publish_groups(groups: dict[float, list[int]], *, marked: bool = False) -> None:
    pending = [
        (countdown, ids[start : start + PUBLISH_BATCH])
        for countdown, ids in groups.items()
        for start in range(0, len(ids), PUBLISH_BATCH)
    ]
    for done, (countdown, message_ids) in enumerate(pending):
        if not message_publish_many(message_ids=message_ids, countdown=countdown, mark=not marked):
            if marked:  # not handed over after all: "never published", as the sweep reads it
                _published_unmark(message_ids=[pk for _c, ids in pending[done:] for pk in ids])
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
    # Cycle-breaker: notifications.tasks imports the services, which publish its tasks.
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


def message_publish_many(
    *, message_ids: list[int], countdown: float = 0, mark: bool = True
) -> bool:
    """
    Publish the delivery of many messages as one task; return whether the broker took it.

    The task (``notifications.messages_deliver_batch``) hands each message its own delivery
    task in the worker, so retries and acknowledgements stay per message. Never raises:
    when the broker is down the messages stay ``created`` and ``messages_sweep`` publishes
    them again later.
    """
    # Cycle-breaker: notifications.tasks imports the services, which publish its tasks.
    from notifications.tasks import messages_deliver_batch

    if not message_ids:
        return True
    try:
        messages_deliver_batch.apply_async(
            args=[list(message_ids)],
            countdown=countdown or None,
            # What the worker logs instead of the list: Celery's own repr of 2,000 ids costs
            # more than the rest of the publish (a reminder run publishes a batch a chunk).
            argsrepr=f"[<{len(message_ids)} messages from {message_ids[0]}>]",
        )
    except Exception:
        logger.warning(
            "Could not publish delivery of %s messages (%s…); the sweep will retry.",
            len(message_ids),
            message_ids[0],
            exc_info=True,
        )
        return False
    if mark:
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


def _published_unmark(*, message_ids: list[int]) -> None:
    """Clear ``published_at`` of ``message_ids`` set in advance but not handed over (best
    effort: the sweep publishes them either way, only its timing reads the mark)."""
    try:
        Message.objects.filter(pk__in=message_ids, status=MessageStatus.CREATED).update(
            published_at=None
        )
    except DatabaseError:
        logger.warning("Could not note that messages %s were not published.", message_ids)


def messages_publish_each(*, message_ids: list[int]) -> int:
    """
    Publish one delivery task per message (in the worker, for a batch); return how many.

    Stops at the first broker error: the rest stay ``created`` for the sweep.
    """
    for done, message_id in enumerate(message_ids):
        if not message_publish(message_id=message_id, mark=False):
            return done
    return len(message_ids)
