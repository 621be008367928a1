"""
Order within a thread (one record, one recipient, one channel) and messages a later one
makes pointless (``notifications.ordering``), driven through the registration services.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications import sms
from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from notifications.ordering import SUPERSEDED_BY, thread_key
from notifications.services import message_cancel, message_queue, message_send, messages_sweep
from registration import reminders, services
from registration.constants import RegistrationStatus
from tests.notifications.factories import MessageFactory
from tests.registration.factories import RegistrationFactory, registration_with_token
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
S = RegistrationStatus


@pytest.fixture(autouse=True)
def _empty_outboxes():
    mail.outbox = []
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def officer(station):
    return StaffUserFactory(station=station, email="officer@example.org")


def later(minutes: float) -> time_machine.travel:
    return time_machine.travel(timezone.now() + datetime.timedelta(minutes=minutes), tick=False)


def subjects() -> list[str]:
    return [email.subject for email in mail.outbox]


def test_registered_waits_for_the_lost_update_receipt_and_arrives_after_it(
    station, officer, django_capture_on_commit_callbacks
):
    """The drill: the receipt of an update was lost with the broker, "registered" came
    first. Now "registered" waits, and the sweep's receipt goes before it."""
    registration, token = registration_with_token(station=station, status=S.REGISTERED)
    # The update's receipt is recorded but its task is lost (no on-commit run).
    moved = services.registration_move(
        registration=registration,
        data={"address": "Room 9, Linhe Road", "arrival_at": timezone.now()},
        attempt=None,
        language="en",
        token=token,
    ).registration
    receipt = Message.objects.get(template="registration/confirmation")
    assert receipt.status == MessageStatus.CREATED

    with django_capture_on_commit_callbacks(execute=True):
        services.registration_mark_registered(registration=moved, actor=officer)
    registered = Message.objects.get(template="registration/registered")
    assert registered.status == MessageStatus.CREATED
    assert registered.held_by == receipt  # staff see what it waits for
    assert mail.outbox == []

    with later(6), django_capture_on_commit_callbacks(execute=True):
        messages_sweep()  # the lost receipt is handed over; it wakes "registered"
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    assert len(mail.outbox) == 2
    assert token in mail.outbox[0].body  # the receipt with the private link first
    assert "Your stay is registered" in mail.outbox[1].subject
    registered.refresh_from_db()
    assert registered.held_by is None


def test_later_message_goes_once_the_earlier_one_failed_for_good(station):
    registration = RegistrationFactory(station=station)
    first = MessageFactory(
        template="nowhere/missing",  # fails at once: its template does not exist
        concerning=registration,
        thread=thread_key(
            subject=f"registration.registration:{registration.pk}",
            channel=Channel.EMAIL,
            to="ana@example.org",
        ),
        to="ana@example.org",
    )
    second = MessageFactory(concerning=registration, thread=first.thread, to="ana@example.org")
    assert message_send(message_id=second.pk).result == "waiting"
    assert message_send(message_id=first.pk).result == "failed"
    with later(0.1):  # woken: due now
        second.refresh_from_db()
        assert second.next_attempt_at <= timezone.now()
        assert message_send(message_id=second.pk).result == "sent"


def test_cancelling_the_earlier_message_releases_the_later_one(
    station, django_capture_on_commit_callbacks
):
    first = MessageFactory(thread="t:1")
    second = MessageFactory(thread="t:1")
    assert message_send(message_id=second.pk).result == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        message_cancel(message=first)
    second.refresh_from_db()
    assert second.status == MessageStatus.SENT
    assert len(mail.outbox) == 1


def test_a_message_in_flight_holds_the_next_until_it_is_sent(
    django_capture_on_commit_callbacks,
):
    first = MessageFactory(thread="t:2", status=MessageStatus.SENDING)
    Message.objects.filter(pk=first.pk).update(sending_started_at=timezone.now())
    second = MessageFactory(thread="t:2")
    outcome = message_send(message_id=second.pk)
    assert outcome.result == "waiting"
    # It looks again after the first attempt's lease at the latest (woken sooner).
    assert outcome.retry_in >= 60


def test_threads_do_not_hold_each_other(station, settings):
    """An SMS waiting for the morning does not hold the email; a message to an officer
    does not hold the resident's."""
    settings.NOTIFICATIONS_SMS_QUIET_HOURS = ("22:00", "08:00")
    night = datetime.datetime(2026, 11, 25, 23, 0, tzinfo=zoneinfo.ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(night, tick=False):
        registration = RegistrationFactory(station=station)
        resident = registration.resident
        resident.preferred_channel = Channel.SMS  # email and SMS
        resident.save()
        message_queue(
            template="notifications/test",
            language="en",
            channel=Channel.EMAIL,
            to="officer@example.org",
            context={},
            idempotency_key="staff:1",
            concerning=registration,
        )
        services.resident_notify(registration=registration, template="confirmation", key="k1")
        services.resident_notify(registration=registration, template="registered", key="k2")
        text = Message.objects.get(channel=Channel.SMS, template="registration/confirmation")
        assert text.next_attempt_at.hour == 0  # 08:00 in Shanghai: waits for the morning
        resident_emails = Message.objects.filter(to=resident.email).order_by("pk")
        results = [message_send(message_id=m.pk).result for m in resident_emails]
    assert results == ["sent", "sent"]
    assert Message.objects.get(idempotency_key="staff:1").status == MessageStatus.CREATED
    # Three threads: the officer's email, the resident's emails, the resident's texts.
    assert Message.objects.values("thread").distinct().count() == 3


# --- messages that no longer matter ----------------------------------------------------


@pytest.fixture
def expiring(station):
    return RegistrationFactory(
        station=station,
        status=S.REGISTERED,
        visa_valid_until=timezone.localdate() + datetime.timedelta(days=7),
    )


def test_visa_reminder_left_behind_is_dropped_when_the_registration_ended(
    expiring, django_capture_on_commit_callbacks
):
    reminders.visa_expiring(today=timezone.localdate(), dry_run=False)  # its task is lost
    reminder = Message.objects.get(template="registration/visa_expiring")
    assert "secret" not in str(reminder.context)

    with (
        time_machine.travel(timezone.now() + datetime.timedelta(days=8), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        reminders.visa_expired(today=timezone.localdate(), dry_run=False)
    ended = Message.objects.get(template="registration/ended_visa_expired")
    reminder.refresh_from_db()
    assert ended.status == MessageStatus.SENT
    assert reminder.status == MessageStatus.SUPERSEDED
    assert reminder.superseded_by == ended  # the reason staff see
    assert len(mail.outbox) == 1
    assert "has ended" in mail.outbox[0].subject  # not "your visa expires on …" after it
    # Its own task, arriving late, does nothing more.
    assert message_send(message_id=reminder.pk).result == "skipped"


def test_message_whose_own_turn_comes_after_a_later_decision_drops_itself(station):
    registration = RegistrationFactory(station=station)
    thread = thread_key(
        subject=f"registration.registration:{registration.pk}",
        channel=Channel.EMAIL,
        to="ana@example.org",
    )
    reminder = MessageFactory(template="registration/correction_reminder", thread=thread)
    decision = MessageFactory(template="registration/registered", thread=thread)
    assert message_send(message_id=reminder.pk).result == "superseded"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.superseded_by_id) == (MessageStatus.SUPERSEDED, decision.pk)
    assert reminder.context == {}
    assert mail.outbox == []


def test_new_private_link_replaces_the_undelivered_previous_one(
    station, django_capture_on_commit_callbacks
):
    registration = RegistrationFactory(station=station)
    number = registration.resident.document_number
    # The first request's email is lost with the broker; the resident asks again.
    services.registration_link_resend(reference=registration.reference, document_number=number)
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_link_resend(reference=registration.reference, document_number=number)
    first, second = Message.objects.filter(template="registration/link_resent").order_by("pk")
    first.refresh_from_db()
    assert first.status == MessageStatus.SUPERSEDED
    assert second.status == MessageStatus.SENT
    assert len(mail.outbox) == 1  # only the link that works


def test_receipts_and_decisions_are_never_dropped():
    for template in (
        "registration/confirmation",
        "registration/registered",
        "registration/rejected",
        "registration/ended",
        "registration/ended_visa_expired",
        "inquiries/received",
        "inquiries/reply",
        "inquiries/resolved",
    ):
        assert template not in SUPERSEDED_BY


def test_every_template_of_the_table_exists():
    from django.template.loader import get_template

    for template, later_templates in SUPERSEDED_BY.items():
        for name in (template, *later_templates):
            assert get_template(f"messages/{name}/subject.txt")
