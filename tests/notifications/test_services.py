"""Recording messages in the outbox and delivering them (eager tasks, locmem backends)."""

import datetime
import threading
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from notifications import sms
from notifications.constants import Channel, ErrorCode, MessageStatus
from notifications.models import Message
from notifications.services import (
    message_cancel,
    message_queue,
    message_retry,
    message_send,
    messages_sweep,
)
from tests.notifications import backends
from tests.notifications.factories import MessageFactory

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LINK = "https://linli.example.org/r/abc?x=1&y=2"


@pytest.fixture(autouse=True)
def _empty_outboxes():
    sms.outbox.clear()
    backends.script.clear()
    yield
    sms.outbox.clear()
    backends.script.clear()


@pytest.fixture
def scripted_sms(settings):
    settings.SMS_BACKEND = "tests.notifications.backends.ScriptedBackend"
    return backends.script


def queue(**overrides):
    values = {
        "template": "notifications/test",
        "language": "en",
        "channel": Channel.EMAIL,
        "to": "ana@example.org",
        "context": {"secret_link": LINK, "case": "A-1"},
        "idempotency_key": "test:1",
        "recipient_name": "Ana",
    }
    values.update(overrides)
    return message_queue(**values)


def test_queued_email_is_delivered_after_commit_with_station_as_sender(
    station, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = queue(station=station)
        assert mail.outbox == []
    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert message.sent_at is not None
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana@example.org"]
    assert email.from_email == "Shipai Street Expat Service Station <noreply@linli.localhost>"
    assert LINK in email.body  # plain text is not HTML-escaped
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "x=1&amp;y=2" in html
    assert "Shipai Street Expat Service Station" in email.subject


def test_email_in_chinese_has_the_station_name_in_chinese(
    station, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        queue(station=station, language="zh-hans")
    email = mail.outbox[0]
    assert email.from_email.startswith("=?utf-8?") or "shipai街境外人员服务站" in email.from_email
    assert "shipai街境外人员服务站" in email.subject
    assert "这是邻里发送的测试消息" in email.body


def test_secret_context_is_erased_once_sent_and_other_values_kept(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue()
    message.refresh_from_db()
    assert message.context == {"case": "A-1"}
    assert message.secrets_erased is True


def test_message_is_recorded_in_the_callers_transaction_and_rolled_back_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        queue()
        raise RuntimeError("the caller's work failed")
    assert not Message.objects.exists()


def test_same_idempotency_key_returns_the_existing_message_unchanged(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = queue()
        second = queue(to="other@example.org", template="other/template")
    assert first.pk == second.pk
    assert second.to == "ana@example.org"
    assert Message.objects.count() == 1
    assert len(callbacks) == 1
    assert len(mail.outbox) == 1


def test_queue_costs_few_queries(django_assert_max_num_queries, station):
    with django_assert_max_num_queries(6):
        queue(station=station)


def test_concerning_object_is_stored_as_content_type_and_id(station):
    message = queue(concerning=station)
    message = Message.objects.get(pk=message.pk)
    assert message.concerning == station


def test_sms_goes_to_the_sms_backend_with_station_as_sender(
    station, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(channel=Channel.SMS, to="+8613800138000", station=station)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(sms.outbox) == 1
    text = sms.outbox[0]
    assert text.to == "+8613800138000"
    assert text.sender == "Shipai Street Expat Service Station"
    assert LINK in text.body


def test_unknown_language_falls_back_to_language_code():
    assert queue(language="xx").language == "en"


def test_language_code_is_matched_case_insensitively():
    assert queue(language="zh-Hans").language == "zh-hans"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"channel": "pigeon"}, ValueError),
        ({"idempotency_key": ""}, ValueError),
        ({"idempotency_key": "k" * 256}, ValueError),
        ({"context": {"when": datetime.date(2026, 1, 1)}}, TypeError),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_recorded(overrides, error):
    with pytest.raises(error):
        queue(**overrides)
    assert not Message.objects.exists()


def test_send_after_in_the_future_waits_for_the_sweep(django_capture_on_commit_callbacks):
    later = datetime.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(datetime.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI), tick=False):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            message = queue(send_after=later)
        assert callbacks == []  # not handed to the broker a day early
        assert message.next_attempt_at == later
        assert messages_sweep().published == 0
    with time_machine.travel(later + datetime.timedelta(minutes=2), tick=False):
        assert messages_sweep().published == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert len(mail.outbox) == 1


# --- delivery: claimed once, retried with backoff, permanent failures -----------------


def test_delivering_twice_sends_once():
    message = MessageFactory()
    assert message_send(message_id=message.pk).result == "sent"
    assert message_send(message_id=message.pk).result == "skipped"
    assert len(mail.outbox) == 1


def test_delivering_a_missing_message_does_nothing():
    assert message_send(message_id=123456).result == "missing"


@pytest.mark.parametrize(
    "status", [MessageStatus.SENDING, MessageStatus.CANCELLED, MessageStatus.FAILED]
)
def test_only_waiting_messages_are_delivered(status):
    message = MessageFactory(status=status)
    assert message_send(message_id=message.pk).result == "skipped"
    assert mail.outbox == []


def test_temporary_failures_are_retried_with_doubling_waits(scripted_sms, settings):
    scripted_sms.extend(["temporary", "temporary", "temporary"])
    start = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False):
        message = MessageFactory(channel=Channel.SMS, to="+8613800138000")
        outcome = message_send(message_id=message.pk)
    assert outcome.result == "retry"
    message.refresh_from_db()
    assert message.status == MessageStatus.CREATED
    assert message.next_attempt_at == start + datetime.timedelta(seconds=60)
    assert "503" in message.last_error
    assert "secret_link" in message.context  # still needed for the next attempt

    waits = []
    moment = message.next_attempt_at
    for _attempt in range(2):
        with time_machine.travel(moment, tick=False):
            assert message_send(message_id=message.pk).result == "retry"
        message.refresh_from_db()
        waits.append((message.next_attempt_at - moment).total_seconds())
        moment = message.next_attempt_at
    assert waits == [120, 240]

    with time_machine.travel(moment - datetime.timedelta(seconds=1), tick=False):
        assert message_send(message_id=message.pk).result == "skipped"  # not due yet
    with time_machine.travel(moment, tick=False):
        assert message_send(message_id=message.pk).result == "sent"
    message.refresh_from_db()
    assert message.attempts == 4
    assert message.last_error == ""
    assert len(sms.outbox) == 1


def test_temporary_failures_give_up_after_the_retry_window(scripted_sms, settings):
    settings.NOTIFICATIONS_RETRY_HOURS = 0.1  # six minutes
    scripted_sms.extend(["temporary"] * 10)
    moment = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    message = MessageFactory(channel=Channel.SMS, to="+8613800138000", next_attempt_at=moment)
    results = []
    for _attempt in range(10):
        with time_machine.travel(moment, tick=False):
            results.append(message_send(message_id=message.pk).result)
        message.refresh_from_db()
        if message.status != MessageStatus.CREATED:
            break
        moment = message.next_attempt_at
    assert results == ["retry", "retry", "failed"]  # 1 + 2 min waited, 4 more would pass 6
    assert message.status == MessageStatus.FAILED
    assert "503" in message.last_error
    assert "secret_link" not in message.context


def test_permanent_failure_fails_at_once(scripted_sms):
    scripted_sms.append("permanent")
    message = MessageFactory(channel=Channel.SMS, to="+8613800138000")
    assert message_send(message_id=message.pk).result == "failed"
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 1
    assert "invalid number" in message.last_error
    assert message.context == {}


def test_missing_template_fails_at_once():
    message = MessageFactory(template="nowhere/nothing")
    assert message_send(message_id=message.pk).result == "failed"
    message.refresh_from_db()
    assert "TemplateDoesNotExist" in message.last_error


def test_email_refused_by_the_mail_server_fails_at_once(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.notifications.backends.RefusingEmailBackend"}}
    message = MessageFactory()
    assert message_send(message_id=message.pk).result == "failed"
    message.refresh_from_db()
    assert "refused" in message.last_error.lower()


# --- quiet hours -----------------------------------------------------------------------


@pytest.fixture
def quiet_hours(settings):
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
    settings.NOTIFICATIONS_QUIET_HOURS_TIME_ZONE = "Asia/Shanghai"


@pytest.mark.usefixtures("quiet_hours")
def test_sms_queued_at_night_waits_until_eight_in_the_morning(
    django_capture_on_commit_callbacks,
):
    night = datetime.datetime(2026, 11, 25, 23, 30, tzinfo=SHANGHAI)
    morning = datetime.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
    with time_machine.travel(night, tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            message = queue(channel=Channel.SMS, to="+8613800138000")
        assert message.next_attempt_at == morning
        assert messages_sweep().published == 0
    assert sms.outbox == []
    with time_machine.travel(morning + datetime.timedelta(minutes=1), tick=False):
        messages_sweep()
    assert len(sms.outbox) == 1


@pytest.mark.usefixtures("quiet_hours")
def test_sms_queued_after_midnight_waits_until_eight_the_same_morning():
    with time_machine.travel(datetime.datetime(2026, 11, 26, 3, 0, tzinfo=SHANGHAI), tick=False):
        message = queue(channel=Channel.SMS, to="+8613800138000")
    assert message.next_attempt_at == datetime.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)


@pytest.mark.usefixtures("quiet_hours")
def test_sms_due_by_day_whose_attempt_falls_at_night_is_postponed():
    message = MessageFactory(
        channel=Channel.SMS,
        to="+8613800138000",
        next_attempt_at=datetime.datetime(2026, 11, 25, 21, 0, tzinfo=SHANGHAI),
    )
    with time_machine.travel(datetime.datetime(2026, 11, 25, 22, 5, tzinfo=SHANGHAI), tick=False):
        assert message_send(message_id=message.pk).result == "postponed"
    message.refresh_from_db()
    assert message.next_attempt_at == datetime.datetime(2026, 11, 26, 8, 0, tzinfo=SHANGHAI)
    assert message.attempts == 0
    assert sms.outbox == []


@pytest.mark.usefixtures("quiet_hours")
def test_email_is_sent_during_quiet_hours(django_capture_on_commit_callbacks):
    night = datetime.datetime(2026, 11, 25, 23, 30, tzinfo=SHANGHAI)
    with (
        time_machine.travel(night, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        queue()
    assert len(mail.outbox) == 1


@pytest.mark.usefixtures("quiet_hours")
def test_sms_by_day_is_sent_at_once(django_capture_on_commit_callbacks):
    morning = datetime.datetime(2026, 11, 25, 8, 0, tzinfo=SHANGHAI)
    with (
        time_machine.travel(morning, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        queue(channel=Channel.SMS, to="+8613800138000")
    assert len(sms.outbox) == 1


# --- sweep -------------------------------------------------------------------------------


def test_sweep_requeues_only_due_messages_not_handed_over_recently():
    now = datetime.datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
    with time_machine.travel(now - datetime.timedelta(minutes=30), tick=False):
        lost = MessageFactory()  # created, never published
        recent = MessageFactory(published_at=now - datetime.timedelta(minutes=1))
        published_long_ago = MessageFactory()
        future = MessageFactory(next_attempt_at=now + datetime.timedelta(hours=1))
        sent = MessageFactory(status=MessageStatus.SENT)
    Message.objects.filter(pk=recent.pk).update(published_at=now - datetime.timedelta(minutes=1))
    Message.objects.filter(pk=published_long_ago.pk).update(
        published_at=now - datetime.timedelta(minutes=20)
    )
    with time_machine.travel(now, tick=False):
        outcome = messages_sweep()
    assert outcome.published == 2
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses[lost.pk] == MessageStatus.SENT
    assert statuses[published_long_ago.pk] == MessageStatus.SENT
    assert statuses[recent.pk] == MessageStatus.CREATED
    assert statuses[future.pk] == MessageStatus.CREATED
    assert statuses[sent.pk] == MessageStatus.SENT
    assert len(mail.outbox) == 2


def test_sweep_when_the_broker_is_down_keeps_messages_and_stops(monkeypatch):
    from notifications import tasks

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.message_deliver, "apply_async", broken)
    MessageFactory()
    MessageFactory()
    outcome = messages_sweep(older_than=datetime.timedelta(0))
    assert (outcome.published, outcome.unpublished) == (0, 1)
    assert Message.objects.filter(status=MessageStatus.CREATED).count() == 2


def test_broker_down_at_commit_leaves_the_message_waiting(
    monkeypatch, django_capture_on_commit_callbacks
):
    from notifications import tasks

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.message_deliver, "apply_async", broken)
    with django_capture_on_commit_callbacks(execute=True):
        message = queue()  # no exception reaches the caller
    message.refresh_from_db()
    assert message.status == MessageStatus.CREATED
    assert message.published_at is None


# --- staff actions -------------------------------------------------------------------------


def test_retry_sends_a_failed_message_again(django_capture_on_commit_callbacks):
    message = MessageFactory(status=MessageStatus.FAILED, attempts=3, last_error="boom")
    with django_capture_on_commit_callbacks(execute=True):
        message_retry(message=message)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 4
    assert len(mail.outbox) == 1


def test_retry_refuses_a_message_that_waits_or_was_sent():
    for status in (MessageStatus.CREATED, MessageStatus.SENT):
        message = MessageFactory(status=status)
        with pytest.raises(ValidationError) as error:
            message_retry(message=message)
        assert error.value.code == ErrorCode.NOT_RETRYABLE


def test_cancel_stops_a_waiting_message_and_erases_its_secrets():
    message = MessageFactory()
    message_cancel(message=message)
    message.refresh_from_db()
    assert message.status == MessageStatus.CANCELLED
    assert message.context == {}
    assert message_send(message_id=message.pk).result == "skipped"
    assert mail.outbox == []


def test_cancel_refuses_a_sent_message():
    message = MessageFactory(status=MessageStatus.SENT)
    with pytest.raises(ValidationError) as error:
        message_cancel(message=message)
    assert error.value.code == ErrorCode.NOT_CANCELLABLE


# --- concurrency (PostgreSQL: real row locks) ------------------------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are PostgreSQL's (SQLite serialises)"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_the_same_time_send_once():
    message = MessageFactory()
    barrier = threading.Barrier(4)
    results = []

    def deliver():
        barrier.wait()
        try:
            results.append(message_send(message_id=message.pk).result)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["sent", "skipped", "skipped", "skipped"]
    assert len(mail.outbox) == 1


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_callers_queueing_the_same_key_at_once_record_one_message():
    barrier = threading.Barrier(4)
    ids = []

    def record():
        barrier.wait()
        try:
            with transaction.atomic():
                ids.append(queue(idempotency_key="race").pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    ("channel", "to"),
    [(Channel.EMAIL, "not-an-address"), (Channel.SMS, "12345"), (Channel.SMS, "+86 1")],
)
def test_invalid_address_fails_at_once_without_reaching_the_channel(channel, to):
    message = MessageFactory(channel=channel, to=to)
    assert message_send(message_id=message.pk).result == "failed"
    message.refresh_from_db()
    assert message.attempts == 1
    assert "PermanentDeliveryError" in message.last_error
    assert mail.outbox == []
    assert sms.outbox == []
