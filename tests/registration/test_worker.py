"""A resident's confirmation through a real Celery worker and a real Redis broker."""

import pytest
from django.core import mail
from django.urls import reverse

from notifications.constants import MessageStatus
from notifications.models import Message
from registration.models import Registration
from tests.registration.factories import form_data, photos
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.celery_worker


def test_submitted_registrations_confirmation_goes_through_the_broker(live_worker, client):
    station = StationFactory(code="shipai")
    url = reverse("registration:register", args=[station.code])
    client.post(url, {**form_data(preferred_language="zh-hans"), **photos()})
    response = client.post(url, {**form_data(preferred_language="zh-hans"), "step": "submit"})
    assert response.status_code == 302
    registration = Registration.objects.get()
    message = Message.objects.get(template="registration/confirmation")

    live_worker.wait_for(
        lambda: (
            Message.objects.values_list("status", flat=True).get(pk=message.pk)
            == MessageStatus.SENT
        )
    )
    assert len(mail.outbox) == 1
    assert registration.reference in mail.outbox[0].subject
    assert "/registration/r/" in mail.outbox[0].body
    message.refresh_from_db()
    assert "secret_link" not in message.context  # the private link is not kept
