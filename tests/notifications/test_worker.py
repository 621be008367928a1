"""Delivery through a real Celery worker and a real Redis broker (see tests/celery_support.py)."""

import datetime

import pytest
from django.core import mail
from django.db import transaction

from notifications import sms
from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from notifications.reminders import RuleOutcome, reminder_key
from notifications.services import (
    MessageSpec,
    message_publish,
    message_queue,
    message_queue_many,
    messages_sweep,
)
from notifications.tasks import message_deliver, reminders_send_due
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.celery_worker

RULE = "tests.notifications.test_worker.welcome_rule"


def welcome_rule(*, today: datetime.date, dry_run: bool) -> RuleOutcome:
    """A fake reminder rule: one reminder per station, keyed by station and day."""
    outcome = RuleOutcome(rule="welcome")
    for station in StationFactory._meta.model.objects.all():
        outcome.due += 1
        outcome.details.append(station.code)
        if dry_run:
            continue
        with transaction.atomic():
            message_queue(
                template="notifications/test",
                language="zh-hans",
                channel=Channel.EMAIL,
                to=f"{station.code}@example.org",
                context={},
                idempotency_key=reminder_key("welcome", station, today),
                station=station,
            )
        outcome.queued += 1
    return outcome


def queue_in_a_transaction(**overrides) -> Message:
    values = {
        "template": "notifications/test",
        "language": "en",
        "channel": Channel.EMAIL,
        "to": "ana@example.org",
        "context": {"secret_link": "https://linli.example.org/r/secret"},
        "idempotency_key": "worker:1",
        "recipient_name": "Ana",
    }
    values.update(overrides)
    with transaction.atomic():  # the caller's transaction; the task is published on commit
        return message_queue(**values)


def status_of(message: Message) -> str:
    return Message.objects.values_list("status", flat=True).get(pk=message.pk)


def test_message_goes_through_the_broker_and_is_delivered(live_worker):
    message = queue_in_a_transaction()

    live_worker.wait_for(lambda: status_of(message) == MessageStatus.SENT)

    assert len(mail.outbox) == 1
    assert "https://linli.example.org/r/secret" in mail.outbox[0].body
    message.refresh_from_db()
    assert message.attempts == 1
    assert "secret_link" not in message.context


def test_sms_goes_through_the_broker(live_worker):
    sms.outbox.clear()
    message = queue_in_a_transaction(channel=Channel.SMS, to="+8613800138000")

    live_worker.wait_for(lambda: status_of(message) == MessageStatus.SENT)

    assert [text.to for text in sms.outbox] == ["+8613800138000"]
    sms.outbox.clear()


def test_broker_down_at_publish_keeps_message_and_sweep_delivers_it_once(live_worker):
    with live_worker.broker_unreachable():
        message = queue_in_a_transaction()  # must not raise: the caller's request succeeds
        assert message_publish(message_id=message.pk) is False

    message.refresh_from_db()
    assert message.status == MessageStatus.CREATED
    assert message.published_at is None
    assert mail.outbox == []

    # Redis is back: the sweep (twice, as two beat runs would) hands the message over.
    first = messages_sweep(older_than=datetime.timedelta(0))
    assert first.published == 1
    # The second sweep may find the message already sent, or publish it a second time.
    second = messages_sweep(older_than=datetime.timedelta(0))
    tasks = first.published + second.published
    live_worker.wait_for(lambda: live_worker.finished("notifications.message_deliver") == tasks)
    assert status_of(message) == MessageStatus.SENT

    assert len(mail.outbox) == 1
    assert messages_sweep(older_than=datetime.timedelta(0)).published == 0


def test_a_task_delivered_twice_sends_once(live_worker):
    with live_worker.broker_unreachable():
        message = queue_in_a_transaction()
    assert status_of(message) == MessageStatus.CREATED

    # The same task published twice (late ack after a worker was killed, visibility timeout).
    message_deliver.apply_async(args=[message.pk])
    message_deliver.apply_async(args=[message.pk])
    live_worker.wait_for(lambda: live_worker.finished("notifications.message_deliver") == 2)

    assert status_of(message) == MessageStatus.SENT
    assert len(mail.outbox) == 1
    assert Message.objects.get(pk=message.pk).attempts == 1


def test_reminder_rules_run_twice_through_the_worker_queue_each_reminder_once(
    live_worker, settings
):
    settings.REMINDER_RULES = [RULE]
    StationFactory(code="shipai")
    StationFactory(code="linhe")

    reminders_send_due.delay()
    reminders_send_due.delay()
    live_worker.wait_for(lambda: live_worker.finished("notifications.reminders_send_due") == 2)
    live_worker.wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 2)

    assert Message.objects.count() == 2
    assert sorted(email.to[0] for email in mail.outbox) == [
        "linhe@example.org",
        "shipai@example.org",
    ]


def queue_many_in_a_transaction(count: int) -> list[Message]:
    specs = [
        MessageSpec(
            template="notifications/test",
            language="en",
            channel=Channel.EMAIL,
            to=f"resident{n}@example.org",
            context={"secret_link": f"https://linli.example.org/r/{n}"},
            idempotency_key=f"worker:many:{n}",
        )
        for n in range(count)
    ]
    with transaction.atomic():
        return message_queue_many(messages=specs)


def test_a_batch_goes_through_the_broker_and_each_message_is_delivered_once(live_worker):
    messages = queue_many_in_a_transaction(5)

    live_worker.wait_for(
        lambda: Message.objects.filter(status=MessageStatus.SENT).count() == len(messages)
    )
    assert live_worker.finished("notifications.messages_deliver_batch") == 1
    assert sorted(email.to[0] for email in mail.outbox) == [
        f"resident{n}@example.org" for n in range(5)
    ]
    assert not any("secret_link" in m.context for m in Message.objects.all())


def test_broker_down_at_batch_publish_keeps_messages_for_the_sweep(live_worker):
    with live_worker.broker_unreachable():
        messages = queue_many_in_a_transaction(3)  # must not raise
    assert set(Message.objects.values_list("status", "published_at")) == {
        (MessageStatus.CREATED, None)
    }
    assert messages_sweep(older_than=datetime.timedelta(0)).published == len(messages)
    live_worker.wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).count() == 3)
    assert len(mail.outbox) == 3
