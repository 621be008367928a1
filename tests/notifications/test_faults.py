"""
Faults during delivery: a worker killed mid-send, a task delivered twice, the database
dropping the connection between a send and its save. Nothing is mocked: each test leaves
the outbox as the fault leaves it (or breaks what the fault breaks) and drives the real
services.
"""

import datetime
import logging
import re
import threading
import uuid

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.db.backends.signals import connection_created
from django.utils import timezone

from notifications import sms
from notifications.constants import Channel, MessageStatus
from notifications.identity import email_message_id, message_identity
from notifications.models import Message
from notifications.services import attempts, message_send, messages_sweep
from tests.notifications import backends
from tests.notifications.factories import MessageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_outboxes():
    mail.outbox = []
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def lease() -> datetime.timedelta:
    from django.conf import settings

    return datetime.timedelta(seconds=settings.NOTIFICATIONS_SENDING_LEASE)


def left_by_a_killed_worker(message: Message, *, started: datetime.datetime) -> None:
    """Leave ``message`` as a worker killed after its claim leaves it: sending, for ever."""
    Message.objects.filter(pk=message.pk).update(
        status=MessageStatus.SENDING,
        attempts=message.attempts + 1,
        first_attempt_at=message.first_attempt_at or started,
        sending_started_at=started,
        attempt_id=uuid.uuid4(),
        updated_at=started,
    )


def message_ids() -> list[str]:
    return [email.extra_headers["Message-ID"] for email in mail.outbox]


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


# --- a worker killed mid-send -----------------------------------------------------------


def test_message_of_a_worker_killed_before_sending_is_sent_once_by_the_sweep(
    django_capture_on_commit_callbacks,
):
    message = MessageFactory(idempotency_key="registration:7:confirmation:3:email")
    now = timezone.now()
    left_by_a_killed_worker(message, started=now)

    # Before the lease expires the attempt may still be alive: the sweep leaves it alone.
    with time_machine.travel(now + lease() - datetime.timedelta(seconds=1), tick=False):
        assert messages_sweep().interrupted == 0
    assert mail.outbox == []

    with (
        time_machine.travel(now + lease() + datetime.timedelta(seconds=1), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        outcome = messages_sweep()
    assert (outcome.interrupted, outcome.published) == (1, 1)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 2
    assert message.uncertain_attempts == 1
    assert message.sending_started_at is None
    assert message_ids() == [email_message_id("registration:7:confirmation:3:email")]
    assert message.reference == message_ids()[0]


def test_message_of_a_worker_killed_after_sending_goes_again_with_the_same_message_id(
    django_capture_on_commit_callbacks,
):
    message = MessageFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert message_send(message_id=message.pk).result == "sent"
    # Killed between the mail server's "250 OK" and the save: the outbox still says sending.
    left_by_a_killed_worker(message, started=start)

    with (
        time_machine.travel(start + lease() + datetime.timedelta(minutes=2), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert messages_sweep().interrupted == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    # At worst twice, never zero times, and both copies are recognisably the same message.
    assert len(mail.outbox) == 2
    assert message_ids() == [email_message_id(message.idempotency_key)] * 2


def test_redelivered_task_leaves_a_live_attempt_alone_and_takes_over_an_expired_one():
    message = MessageFactory()
    start = timezone.now()
    left_by_a_killed_worker(message, started=start)

    # The broker hands the task out again (a pool child was killed): the other attempt's
    # lease still runs, so this one does not send.
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        assert message_send(message_id=message.pk).result == "skipped"
    assert mail.outbox == []

    with time_machine.travel(start + lease() + datetime.timedelta(seconds=1), tick=False):
        assert message_send(message_id=message.pk).result == "sent"
    message.refresh_from_db()
    assert (message.status, message.uncertain_attempts) == (MessageStatus.SENT, 1)
    assert len(mail.outbox) == 1


def test_sms_sent_again_after_a_killed_worker_carries_the_same_gateway_key():
    message = MessageFactory(channel=Channel.SMS, to="+8613800138000")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert message_send(message_id=message.pk).result == "sent"
    left_by_a_killed_worker(message, started=start)
    with time_machine.travel(start + lease() + datetime.timedelta(seconds=1), tick=False):
        assert message_send(message_id=message.pk).result == "sent"
    keys = [text.key for text in sms.outbox]
    assert keys == [message_identity(message.idempotency_key)] * 2


def test_message_that_keeps_killing_its_worker_stops_as_may_have_been_sent(settings, caplog):
    settings.NOTIFICATIONS_MAX_INTERRUPTED = 3
    # Two attempts already stopped without a result; the third worker is killed too.
    message = MessageFactory(
        context={"secret_link": "https://linli.example.org/r/tok"}, uncertain_attempts=2
    )
    start = timezone.now()
    left_by_a_killed_worker(message, started=start)
    with time_machine.travel(start + lease() + datetime.timedelta(seconds=1), tick=False):
        outcome = messages_sweep()
    assert (outcome.interrupted, outcome.possibly_sent, outcome.published) == (0, 1, 0)
    message.refresh_from_db()
    assert message.status == MessageStatus.POSSIBLY_SENT
    assert message.uncertain_attempts == 3
    assert "may have been sent" in message.last_error
    assert message.context == {}  # a finished message keeps no private link
    assert mail.outbox == []
    assert any("may have been sent" in r.getMessage() for r in errors(caplog))


def test_message_given_up_after_an_interrupted_attempt_is_may_have_been_sent_not_failed(
    settings,
):
    settings.SMS_BACKEND = "tests.notifications.backends.ScriptedBackend"
    settings.NOTIFICATIONS_RETRY_HOURS = 0
    backends.script[:] = ["temporary"]
    message = MessageFactory(channel=Channel.SMS, to="+8613800138000")
    start = timezone.now()
    left_by_a_killed_worker(message, started=start)
    with time_machine.travel(start + lease() + datetime.timedelta(seconds=1), tick=False):
        assert message_send(message_id=message.pk).result == "possibly_sent"
    message.refresh_from_db()
    assert message.status == MessageStatus.POSSIBLY_SENT
    backends.script.clear()


@pytest.mark.django_db(transaction=True)
def test_slow_attempt_that_lost_its_lease_does_not_undo_the_attempt_that_took_over(settings):
    settings.SMS_BACKEND = "tests.notifications.backends.ScriptedBackend"
    backends.script[:] = ["hang"]  # the first attempt's gateway does not answer
    backends.hanging.clear()
    backends.release.clear()
    message = MessageFactory(channel=Channel.SMS, to="+8613800138000")
    start = timezone.now()
    results = []

    def first_attempt():
        try:
            results.append(message_send(message_id=message.pk).result)
        finally:
            connection.close()

    with time_machine.travel(start, tick=False):
        worker = threading.Thread(target=first_attempt)
        worker.start()
        assert backends.hanging.wait(10)
    assert Message.objects.get(pk=message.pk).status == MessageStatus.SENDING
    with time_machine.travel(start + lease() + datetime.timedelta(seconds=1), tick=False):
        # Its lease expired: a redelivered task takes over and the gateway answers it.
        assert message_send(message_id=message.pk).result == "sent"
        backends.release.set()  # the first attempt's gateway finally times out
        worker.join(10)
    assert results == ["skipped"]  # its error is not recorded over the other's success
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.last_error == ""
    assert len(sms.outbox) == 1


# --- the database drops the connection between a send and its save ---------------------


@pytest.fixture
def outage(settings, monkeypatch):
    """Email goes to ``mail.outbox``, then the database connection drops (see backends)."""
    settings.MAILERS = {"default": {"BACKEND": "tests.notifications.backends.DroppingEmailBackend"}}
    monkeypatch.setattr(attempts, "SAVE_BACKOFF", 0.01)  # keep the test fast
    backends.outage.down = False
    backends.outage.drops = 0
    connection_created.connect(backends.outage.on_connection_created)
    yield backends.outage
    connection_created.disconnect(backends.outage.on_connection_created)
    backends.outage.down = False


@pytest.mark.django_db(transaction=True)
def test_save_failing_after_a_successful_send_is_retried_and_the_message_is_sent(outage, caplog):
    # An in-process Celery worker of an earlier test sets the root logger to ERROR; the
    # warning must reach caplog whatever ran before.
    caplog.set_level(logging.WARNING)
    message = MessageFactory()

    assert message_send(message_id=message.pk).result == "sent"

    assert outage.drops == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT  # saved on a fresh connection
    assert message.last_error == ""
    assert len(mail.outbox) == 1
    assert errors(caplog) == []  # a blip is a warning, never "failed"
    assert any("new database connection" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_connection_dropped_before_the_claim_costs_a_retry_not_the_message(outage, caplog):
    message = MessageFactory()
    outage.drop()  # the worker's connection died while it waited for this task

    assert message_send(message_id=message.pk).result == "sent"

    assert outage.drops == 2  # before the claim, and after the send (DroppingEmailBackend)
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert len(mail.outbox) == 1
    assert errors(caplog) == []


@pytest.mark.django_db(transaction=True)
def test_send_that_cannot_be_saved_at_all_is_sent_again_with_the_same_message_id(
    outage, django_capture_on_commit_callbacks
):
    message = MessageFactory()
    start = timezone.now()
    outage.down = True  # the database stays away for every retry
    with time_machine.travel(start, tick=False):
        assert message_send(message_id=message.pk).result == "unrecorded"
    assert outage.drops == attempts.SAVE_TRIES
    outage.down = False

    message.refresh_from_db()
    assert message.status == MessageStatus.SENDING  # never recorded as failed
    assert message.last_error == ""
    # The database is back; once the lease expired the sweep sends the message again, as
    # the same email (a mail client shows one message).
    with time_machine.travel(start + lease() + datetime.timedelta(seconds=1), tick=False):
        messages_sweep()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.uncertain_attempts == 1
    assert message_ids() == [email_message_id(message.idempotency_key)] * 2


def test_message_id_is_stable_names_no_record_and_uses_the_senders_domain(settings):
    settings.DEFAULT_FROM_EMAIL = "Linli <noreply@shipai.example.org>"
    first = email_message_id("registration:7:confirmation:3:email")
    assert first == email_message_id("registration:7:confirmation:3:email")
    assert first != email_message_id("registration:7:confirmation:4:email")
    assert re.fullmatch(r"<linli\.[0-9a-f]{32}@shipai\.example\.org>", first)


def test_delivery_lease_is_checked_against_the_time_limit_and_the_visibility_timeout(settings):
    from notifications.checks import delivery_lease_check

    assert delivery_lease_check() == []
    settings.NOTIFICATIONS_SENDING_LEASE = settings.NOTIFICATIONS_DELIVERY_TIME_LIMIT
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 300}
    assert [w.id for w in delivery_lease_check()] == ["notifications.W001", "notifications.W002"]
