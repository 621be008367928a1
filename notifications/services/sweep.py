"""Take over attempts whose worker died; hand lost messages to the broker again (beat)."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from notifications.constants import MessageStatus
from notifications.models import Message
from notifications.services.attempts import attempt_interrupted, followers_wake, lease
from notifications.services.publishing import message_publish


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
    expired = now - lease()
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
            attempt_interrupted(message=message, now=now)
            if message.status == MessageStatus.POSSIBLY_SENT:
                outcome.possibly_sent += 1
                finished.append(message.pk)
            else:
                outcome.interrupted += 1
                requeued.append(message.pk)
    followers_wake(message_ids=finished)
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
