"""Reads of the notifications app: the outbox as a member of staff may see it."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import F, QuerySet

from notifications.constants import WORKSPACE_CHANNEL, MessageStatus
from notifications.models import Message
from notifications.rendering import message_render
from stations.selectors import station_ids_for_user, user_sees_all_stations


def messages_for_user(user) -> QuerySet[Message]:
    """
    Return the messages ``user`` may see: every one for city administrators and
    superusers, else those of the user's stations (messages without a station stay hidden).
    """
    messages = Message.objects.select_related("station", "concerning_type")
    if user_sees_all_stations(user):
        return messages
    return messages.filter(station_id__in=station_ids_for_user(user))


def messages_failed_count(user) -> int:
    """Return how many messages ``user`` may see have failed (for the staff dashboard)."""
    return messages_for_user(user).filter(status=MessageStatus.FAILED).count()


def messages_concerning(obj) -> QuerySet[Message]:
    """Return the messages recorded about ``obj`` (e.g. a registration), newest first."""
    return Message.objects.filter(
        concerning_type=ContentType.objects.get_for_model(obj), concerning_id=str(obj.pk)
    ).order_by("-created_at", "-pk")


def staff_notifications(user, *, limit: int = 10) -> list[dict]:
    """
    Return the latest staff-workspace notifications of ``user`` (those sent to staff
    without an email address), unread first, each with its subject rendered in its
    language: ``pk``, ``subject``, ``created_at``, ``read_at``, ``admin_url``.
    """
    messages = (
        Message.objects.filter(channel=WORKSPACE_CHANNEL, to=str(user.pk))
        .exclude(status=MessageStatus.CANCELLED)
        .select_related("station")
        .order_by(F("read_at").asc(nulls_first=True), "-created_at", "-pk")[:limit]
    )
    return [
        {
            "pk": message.pk,
            "subject": message_render(message).subject,
            "created_at": message.created_at,
            "read_at": message.read_at,
            "admin_url": (message.context or {}).get("admin_url", ""),
        }
        for message in messages
    ]
