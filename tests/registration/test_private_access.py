"""
Private access held by a session (what a bound WeChat's menu entry gives): it acts as the
private link, only with its session, and never replaces or reveals the link.
"""

import time

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.models import Message
from registration.models import Registration
from registration.private_access import SESSION_KEY, private_access_grant
from tests.registration.factories import registration_with_token
from tests.registration.test_returning import _move_data, _old

pytestmark = pytest.mark.django_db


def _granted(client, registration) -> str:
    session = client.session
    alias = private_access_grant(session=session, resident=registration.resident)
    session.save()
    return alias


def test_a_move_through_session_access_keeps_the_residents_own_link(client, station, other_station):
    old, token = _old(station)
    alias = _granted(client, old)
    response = client.post(
        reverse("registration:update_move", args=[alias]), _move_data(other_station)
    )
    assert response.status_code == 302
    new = Registration.objects.get(previous=old)
    # The link moved with the resident, as a move through the link does; the alias did not
    # become the link, and the session's page now opens the new registration.
    assert Client().get(reverse("registration:private", args=[token])).status_code == 200
    assert Client().get(reverse("registration:private", args=[alias])).status_code == 404
    page = client.get(reverse("registration:private", args=[alias]))
    assert page.status_code == 200 and new.reference in page.text
    # Neither the receipt nor the confirmation shows the alias as a link to keep.
    receipt = client.get(reverse("registration:receipt"))
    assert receipt.status_code == 200
    assert alias not in receipt.text
    confirmation = Message.objects.filter(
        template="registration/confirmation", concerning_id=str(new.pk)
    ).get()
    assert "secret_link" not in confirmation.context
    assert alias not in str(confirmation.context)
    assert all(alias not in message.body for message in mail.outbox)


def test_session_access_opens_only_its_residents_registration_and_expires(client, station):
    mine, _token = registration_with_token(station=station)
    other, other_token = registration_with_token(station=station)
    alias = _granted(client, mine)
    assert client.get(reverse("registration:private", args=[alias])).status_code == 200
    assert other.reference not in client.get(reverse("registration:private", args=[alias])).text
    session = client.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "until": int(time.time()) - 1}
    session.save()
    assert client.get(reverse("registration:private", args=[alias])).status_code == 404
    assert client.get(reverse("registration:private", args=[other_token])).status_code == 200
