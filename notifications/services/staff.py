"""Staff actions on the outbox (admin): send a message again, or stop one that waits."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from notifications.constants import (
    RETRYABLE_STATUSES,
    WORKSPACE_CHANNEL,
    ErrorCode,
    MessageStatus,
)
from notifications.models import Message
from notifications.services.attempts import finish, followers_wake
from notifications.services.publishing import message_publish_on_commit
from notifications.timing import due_time


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
        message.next_attempt_at = due_time(channel=message.channel, moment=timezone.now())
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
        message.save(update_fields=finish(message, MessageStatus.CANCELLED))
        message_id = message.pk
        # The messages waiting for this one in its thread need not wait any more.
        transaction.on_commit(lambda: followers_wake(message_ids=[message_id]))
    return message


def staff_notification_mark_read(*, user, message_id: int) -> bool:
    """
    Mark the staff-workspace notification ``message_id`` of ``user`` as read; return
    whether it was unread. Another user's message (a guessed id) is left alone.
    """
    with transaction.atomic():
        updated = Message.objects.filter(
            pk=message_id, channel=WORKSPACE_CHANNEL, to=str(user.pk), read_at__isnull=True
        ).update(read_at=timezone.now(), updated_at=timezone.now())
    return bool(updated)
