"""Fixtures of the inquiries tests: staff of two stations and a help request."""

import pytest
from django.core import mail

from inquiries.constants import Category, ContactMethod, ContactTime, Urgency
from inquiries.services import inquiry_submit
from stations.constants import MembershipRole
from tests.stations.factories import StaffUserFactory


@pytest.fixture
def officer(station):
    return StaffUserFactory(username="officer", station=station)


@pytest.fixture
def manager(station):
    return StaffUserFactory(
        username="manager", station=station, station__role=MembershipRole.MANAGER
    )


@pytest.fixture
def other_officer(other_station):
    return StaffUserFactory(username="linhe-officer", station=other_station)


@pytest.fixture
def submit(station):
    """Return a function that records a help request (defaults: English, by email)."""

    def _submit(**overrides):
        values = {
            "station": station,
            "category": Category.HOUSING,
            "subject": "Landlord keeps my deposit",
            "description": "I moved out a month ago and the landlord does not return it.",
            "urgency": Urgency.NORMAL,
            "contact_name": "Amina Diallo",
            "contact_method": ContactMethod.EMAIL,
            "contact_time": ContactTime.ANY,
            "language": "en",
            "email": "amina@example.org",
        }
        values.update(overrides)
        return inquiry_submit(**values)

    return _submit


@pytest.fixture
def outbox():
    mail.outbox = []
    return mail.outbox
