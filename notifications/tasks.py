"""Celery tasks of the notifications app: thin wrappers around the services."""

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from notifications.reminders import reminders_run
from notifications.services import message_send, messages_publish_each, messages_sweep

logger = logging.getLogger(__name__)


# The time limit bounds an attempt, so that its lease (NOTIFICATIONS_SENDING_LEASE, twice
# as long) tells a live attempt from one whose worker died.
@shared_task(
    name="notifications.message_deliver",
    acks_late=True,
    time_limit=settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT,
    soft_time_limit=settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT * 5 // 6,
)
def message_deliver(message_id: int) -> str:
    """
    Deliver one message of the outbox; running it twice sends once.

    If the worker of a first run died after the channel took the message, a later run sends
    it again with the same identity (Message-ID, SMS key).
    """
    return message_send(message_id=message_id).result


@shared_task(name="notifications.messages_deliver_batch", acks_late=True)
def messages_deliver_batch(message_ids: list[int]) -> int:
    """
    Hand each message of a batch (``message_queue_many``) its own delivery task.

    Queueing thousands of reminders costs one broker call per batch in the caller; the
    per-message tasks (retries, acknowledgements, parallel workers) are published here.
    A message not published (broker away, worker stopped) stays ``created``; the sweep takes
    it later, and a batch run twice only publishes tasks that find their message sent.
    """
    return messages_publish_each(message_ids=message_ids)


@shared_task(name="notifications.messages_sweep")
def messages_sweep_task() -> dict:
    """Take over attempts whose worker died; hand lost messages to the queue (beat, 2 min)."""
    outcome = messages_sweep()
    return {
        "published": outcome.published,
        "unpublished": outcome.unpublished,
        "interrupted": outcome.interrupted,
        "possibly_sent": outcome.possibly_sent,
    }


@shared_task(name="notifications.reminders_send_due")
def reminders_send_due() -> list[dict]:
    """Run every reminder rule for today's local date (beat, daily)."""
    today = timezone.localdate()
    outcomes = reminders_run(today=today, dry_run=False)
    return [{"rule": o.rule, "due": o.due, "queued": o.queued, "error": o.error} for o in outcomes]


@shared_task(name="notifications.staff_alerts_send")
def staff_alerts_send() -> list[dict]:
    """Run the staff alert rules (``STAFF_ALERT_RULES``) now (beat, every 15 minutes)."""
    today = timezone.localdate()
    outcomes = reminders_run(today=today, dry_run=False, rules=settings.STAFF_ALERT_RULES)
    return [{"rule": o.rule, "due": o.due, "queued": o.queued, "error": o.error} for o in outcomes]
