"""
Retention of the outbox: finished messages are deleted after ``RETENTION["outbox_days"]``.

Listed in ``RETENTION_RULES`` and run nightly by the privacy app's retention task. The
outcome has the fields the retention runner prints (rule, deleted, anonymised, files);
notifications does not import the privacy app.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from notifications.constants import FINAL_STATUSES
from notifications.models import Message

BATCH = 5000


@dataclass
class MessagesExpired:
    """How many finished messages were (or, in a dry run, would be) deleted."""

    rule: str = "notifications.messages"
    deleted: int = 0
    anonymised: int = 0
    files: int = 0


def messages_expire(*, now: datetime.datetime, dry_run: bool) -> MessagesExpired:
    """Delete sent, failed and cancelled messages last changed before the retention period."""
    days = settings.RETENTION["outbox_days"]
    expired = Message.objects.filter(
        status__in=FINAL_STATUSES, updated_at__lt=now - datetime.timedelta(days=days)
    )
    outcome = MessagesExpired()
    if dry_run:
        outcome.deleted = expired.count()
        return outcome
    while True:
        ids = list(expired.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return outcome
        with transaction.atomic():
            outcome.deleted += Message.objects.filter(pk__in=ids).delete()[0]
