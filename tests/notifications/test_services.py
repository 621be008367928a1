"""Recording messages in the outbox and delivering them (eager tasks, locmem backends)."""

import pytest
from django.core import mail

from notifications import sms
from notifications.constants import Channel, MessageStatus
from notifications.models import Message
from notifications.services import message_queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def queue(**overrides):
    values = {
        "template": "notifications/test",
        "language": "en",
        "channel": Channel.EMAIL,
        "to": "ana@example.org",
        "context": {"secret_link": "https://linli.example.org/r/abc?x=1&y=2"},
        "idempotency_key": "test:1",
        "recipient_name": "Ana",
    }
    values.update(overrides)
    return message_queue(**values)


def test_queued_email_is_delivered_after_commit_with_station_as_sender(
    station, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(station=station)
        assert mail.outbox == []
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert message.attempts == 1
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana@example.org"]
    assert email.from_email.startswith("Shipai Street Expat Service Station <")
    assert "https://linli.example.org/r/abc?x=1&y=2" in email.body
    assert email.alternatives[0].mimetype == "text/html"
    assert "secret_link" not in message.context
    assert message.secrets_erased


def test_same_idempotency_key_returns_the_existing_message(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = queue()
        second = queue(to="other@example.org")
    assert first.pk == second.pk
    assert Message.objects.count() == 1
    assert len(mail.outbox) == 1


def test_sms_goes_to_the_locmem_outbox(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = queue(channel=Channel.SMS, to="+8613800138000")
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert [m.to for m in sms.outbox] == ["+8613800138000"]


def test_unknown_language_falls_back_to_language_code():
    message = queue(language="xx")
    assert message.language == "en"
