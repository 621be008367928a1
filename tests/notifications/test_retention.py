"""Finished messages leave the outbox after the retention period."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from notifications.constants import MessageStatus
from notifications.models import Message
from notifications.retention import messages_expire
from tests.notifications.factories import MessageFactory

pytestmark = pytest.mark.django_db


def test_finished_messages_past_the_period_are_deleted_and_waiting_ones_kept(settings):
    settings.RETENTION = {**settings.RETENTION, "outbox_days": 90}
    now = timezone.now()
    with time_machine.travel(now - datetime.timedelta(days=91)):
        old = [
            MessageFactory(status=status)
            for status in (MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.CANCELLED)
        ]
        waiting = MessageFactory(status=MessageStatus.CREATED)
    recent = MessageFactory(status=MessageStatus.SENT)

    assert messages_expire(now=now, dry_run=True).deleted == 3
    assert Message.objects.count() == 5

    assert messages_expire(now=now, dry_run=False).deleted == 3
    remaining = set(Message.objects.values_list("pk", flat=True))
    assert remaining == {waiting.pk, recent.pk}
    assert not remaining & {m.pk for m in old}


def test_the_rule_is_listed_for_the_nightly_retention(settings):
    assert "notifications.retention.messages_expire" in settings.RETENTION_RULES
