"""Fixtures of the registration tests."""

import pytest
from django.core import mail

from notifications import sms


@pytest.fixture(autouse=True)
def _empty_outboxes():
    mail.outbox = []
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def officer(station):
    from tests.stations.factories import StaffUserFactory

    return StaffUserFactory(station=station, email="officer@example.org")


@pytest.fixture
def other_officer(other_station):
    from tests.stations.factories import StaffUserFactory

    return StaffUserFactory(station=other_station, email="other@example.org")
