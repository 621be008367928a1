"""Recording many messages at once (``message_queue_many``): the promises of ``message_queue``."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.db import transaction

from notifications import sms, tasks
from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from notifications.services import MessageSpec, message_queue_many, messages_sweep
from tests.notifications.factories import MessageFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LINK = "https://linli.example.org/r/abc"


@pytest.fixture(autouse=True)
def _empty_outboxes():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def spec(n: int, **overrides) -> MessageSpec:
    values = {
        "template": "notifications/test",
        "language": "en",
        "channel": Channel.EMAIL,
        "to": f"resident{n}@example.org",
        "context": {"secret_link": LINK, "case": f"A-{n}"},
        "idempotency_key": f"bulk:{n}",
        "recipient_name": f"Resident {n}",
    }
    values.update(overrides)
    return MessageSpec(**values)


def test_each_key_is_recorded_once_and_every_message_is_returned(station):
    existing = MessageFactory(idempotency_key="bulk:2")
    specs = [spec(1, station=station), spec(2), spec(3), spec(1, to="other@example.org")]
    messages = message_queue_many(messages=specs)
    assert [m.idempotency_key for m in messages] == ["bulk:1", "bulk:2", "bulk:3"]
    assert [m.newly_queued for m in messages] == [True, False, True]
    assert messages[1].pk == existing.pk
    assert all(m.pk for m in messages)
    assert Message.objects.count() == 3
    first = Message.objects.get(idempotency_key="bulk:1")
    assert first.to == "resident1@example.org"  # the first spec of a key wins
    assert first.station == station
    assert first.status == MessageStatus.CREATED


def test_queueing_the_same_specs_again_records_nothing(django_capture_on_commit_callbacks):
    message_queue_many(messages=[spec(n) for n in range(5)])
    with django_capture_on_commit_callbacks() as callbacks:
        again = message_queue_many(messages=[spec(n) for n in range(5)])
    assert Message.objects.count() == 5
    assert not any(m.newly_queued for m in again)
    assert callbacks == []


def test_a_key_recorded_by_another_process_meanwhile_is_not_doubled(monkeypatch):
    """Between the key lookup and the INSERT another beat process records one of the keys."""
    original = Message.objects.bulk_create

    def racing(objs, **kwargs):
        MessageFactory(idempotency_key=objs[0].idempotency_key, to="theirs@example.org")
        return original(objs, **kwargs)

    monkeypatch.setattr(Message.objects, "bulk_create", racing)
    messages = message_queue_many(messages=[spec(1), spec(2)])
    assert [m.newly_queued for m in messages] == [False, True]
    assert messages[0].to == "theirs@example.org"
    assert Message.objects.count() == 2


def test_messages_are_published_after_commit_in_one_callback(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        messages = message_queue_many(messages=[spec(n) for n in range(3)])
        assert mail.outbox == []  # nothing leaves before the commit
        assert {m.status for m in Message.objects.all()} == {MessageStatus.CREATED}
    assert len(callbacks) == 1
    assert len(mail.outbox) == 3
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT
        assert "secret_link" not in message.context  # secrets erased once sent
        assert message.context["case"].startswith("A-")
    assert sorted(m.to[0] for m in mail.outbox) == [f"resident{n}@example.org" for n in range(3)]


def test_a_rolled_back_transaction_records_and_publishes_nothing(
    django_capture_on_commit_callbacks,
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        message_queue_many(messages=[spec(1), spec(2)])
        raise RuntimeError("the caller fails")
    assert callbacks == []
    assert not Message.objects.exists()
    assert mail.outbox == []


def test_broker_down_at_commit_leaves_the_messages_for_the_sweep(
    monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    with monkeypatch.context() as patch:
        patch.setattr(tasks.messages_deliver_batch, "apply_async", broken)
        with django_capture_on_commit_callbacks(execute=True):
            message_queue_many(messages=[spec(1), spec(2)])  # no exception reaches the caller
    assert (
        list(Message.objects.values_list("status", "published_at"))
        == [(MessageStatus.CREATED, None)] * 2
    )
    assert messages_sweep(older_than=datetime.timedelta(0)).published == 2
    assert len(mail.outbox) == 2
    assert messages_sweep(older_than=datetime.timedelta(0)).published == 0
    assert len(mail.outbox) == 2  # delivered exactly once


def test_text_messages_wait_for_the_end_of_the_quiet_hours(
    settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
    night = datetime.datetime(2026, 11, 30, 23, 0, tzinfo=SHANGHAI)
    with (
        time_machine.travel(night, tick=False),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        sms_message, email = message_queue_many(
            messages=[spec(1, channel=Channel.SMS, to="+8613800138000"), spec(2)]
        )
    assert sms_message.next_attempt_at == datetime.datetime(2026, 12, 1, 8, 0, tzinfo=SHANGHAI)
    assert email.next_attempt_at == night
    assert len(callbacks) == 1
    assert sms.outbox == []  # the text message waits for the morning (and the sweep)
    assert len(mail.outbox) == 1


def test_an_unknown_language_falls_back_to_the_default(settings):
    (message,) = message_queue_many(messages=[spec(1, language="xx")])
    assert message.language == settings.LANGUAGE_CODE
    (message,) = message_queue_many(messages=[spec(2, language="zh_Hans")])
    assert message.language == "zh-hans"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"channel": "pigeon"}, ValueError),
        ({"idempotency_key": ""}, ValueError),
        ({"context": {"when": datetime.date(2026, 1, 1)}}, TypeError),
    ],
)
def test_a_bad_spec_refuses_its_whole_chunk(overrides, error):
    with pytest.raises(error):
        message_queue_many(messages=[spec(1), spec(2, **overrides)])
    assert not Message.objects.exists()


@pytest.mark.parametrize("count", [10, 200])
def test_a_chunk_costs_the_same_queries_whatever_its_size(
    count, station, django_assert_num_queries, django_capture_on_commit_callbacks
):
    specs = [spec(n, station=station, concerning=station) for n in range(count)]
    message_queue_many(messages=[spec(-1, concerning=station)])  # content type cached
    # Savepoint, key lookup, INSERT, id read-back, release.
    with django_assert_num_queries(5), django_capture_on_commit_callbacks() as callbacks:
        messages = message_queue_many(messages=specs)
    assert len(callbacks) == 1
    assert sum(m.newly_queued for m in messages) == count


def test_queries_grow_per_chunk_not_per_message(
    django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_num_queries(3 * 5), django_capture_on_commit_callbacks() as callbacks:
        messages = message_queue_many(messages=(spec(n) for n in range(120)), chunk_size=50)
    assert len(messages) == 120
    assert len(callbacks) == 3


def test_a_batch_is_handed_to_the_broker_in_one_call(
    monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(tasks.messages_deliver_batch, "apply_async", lambda **kw: calls.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        messages = message_queue_many(messages=[spec(n) for n in range(4)])
    ids = [m.pk for m in messages]
    # The worker logs a summary of the ids, not the list (Celery's repr of it is costly).
    argsrepr = f"[<4 messages from {ids[0]}>]"
    assert calls == [{"args": [ids], "countdown": None, "argsrepr": argsrepr}]
    assert Message.objects.filter(published_at__isnull=False).count() == 4
    # The worker's side: one delivery task per message; twice sends once.
    assert tasks.messages_deliver_batch([m.pk for m in messages]) == 4
    assert tasks.messages_deliver_batch([m.pk for m in messages]) == 4
    assert len(mail.outbox) == 4


def test_a_large_set_is_handed_over_in_tasks_of_a_bounded_size(
    monkeypatch, django_capture_on_commit_callbacks
):
    from notifications.services import publishing

    calls = []
    monkeypatch.setattr(publishing, "PUBLISH_BATCH", 2)
    monkeypatch.setattr(tasks.messages_deliver_batch, "apply_async", lambda **kw: calls.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        messages = message_queue_many(messages=[spec(n) for n in range(5)])
    assert [len(call["args"][0]) for call in calls] == [2, 2, 1]
    assert [pk for call in calls for pk in call["args"][0]] == [m.pk for m in messages]
