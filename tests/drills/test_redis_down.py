"""
Drill 1 of ``make drill`` as tests: Redis (cache and broker) stops while residents register
and ask for help. The submission is stored and its receipt shown; its message waits in the
outbox and is delivered once when Redis is back.
"""

import datetime
import time

import pytest
from django.core import mail
from django.urls import reverse

from inquiries.models import Inquiry
from notifications import sms
from notifications.constants import MessageStatus
from notifications.models import Message
from notifications.services import messages_sweep
from registration.models import Registration
from tests.registration.factories import form_data, photos

pytestmark = pytest.mark.drill


@pytest.fixture(autouse=True)
def _empty_outboxes():
    mail.outbox = []
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _delivered_once_after_redis_returns(own_redis, in_process_worker, message: Message) -> None:
    own_redis.start()
    with in_process_worker():
        # The sweep, as beat runs it, hands over what could not be published.
        assert messages_sweep(older_than=datetime.timedelta(0)).published >= 1
        for _ in range(200):
            message.refresh_from_db()
            if message.status == MessageStatus.SENT:
                break
            time.sleep(0.05)
    assert message.status == MessageStatus.SENT


def test_registration_is_stored_and_confirmed_while_redis_is_down(
    client, station, on_own_redis, in_process_worker
):
    url = reverse("registration:register", args=[station.code])
    assert client.get(url).status_code == 200
    data = form_data()
    review = client.post(url, {**data, **photos()})
    assert review.status_code == 200

    on_own_redis.stop()
    client.raise_request_exception = False
    submitted = client.post(url, {**data, "step": "submit"})

    assert submitted.status_code == 302
    registration = Registration.objects.get()
    assert registration.documents.count() == 3
    receipt = client.get(submitted["Location"])
    assert receipt.status_code == 200
    assert registration.reference in receipt.text
    confirmation = Message.objects.get(template="registration/confirmation")
    assert confirmation.status == MessageStatus.CREATED  # kept in the outbox, not lost
    assert mail.outbox == []

    _delivered_once_after_redis_returns(on_own_redis, in_process_worker, confirmation)
    assert len(mail.outbox) == 1
    assert registration.reference in mail.outbox[0].body


def test_help_request_is_stored_while_redis_is_down(
    client, station, on_own_redis, in_process_worker
):
    url = reverse("inquiries:help", args=[station.code])
    on_own_redis.stop()
    client.raise_request_exception = False
    sent = client.post(
        url,
        {
            "category": "healthcare",
            "subject": "Need an English-speaking doctor",
            "description": "My child has a fever. Which hospital nearby speaks English?",
            "urgency": "normal",
            "contact_name": "John Smith",
            "contact_method": "email",
            "phone": "",
            "email": "john@example.org",
            "wechat_id": "",
            "contact_time": "morning",
            "language": "en",
            "website": "",
        },
    )

    assert sent.status_code == 302
    inquiry = Inquiry.objects.get()
    assert client.get(sent["Location"]).status_code == 200
    received = Message.objects.get(template="inquiries/received")
    assert received.status == MessageStatus.CREATED

    _delivered_once_after_redis_returns(on_own_redis, in_process_worker, received)
    assert len(mail.outbox) == 1
    assert inquiry.reference in mail.outbox[0].body
