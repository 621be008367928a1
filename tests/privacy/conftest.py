"""Fixtures of the privacy tests: two stations, their staff, and a resident both hold."""

import pytest
from django.contrib.auth.models import Group

from stations.constants import GROUP_CITY_ADMIN, MembershipRole
from tests.privacy.factories import shared_resident_make
from tests.stations.factories import StaffUserFactory


@pytest.fixture
def station_a(other_station):
    return other_station


@pytest.fixture
def station_b(station):
    return station


@pytest.fixture
def officer_b(station_b):
    return StaffUserFactory(username="officer-b", station=station_b)


@pytest.fixture
def manager_b(station_b):
    return StaffUserFactory(
        username="manager-b", station=station_b, station__role=MembershipRole.MANAGER
    )


@pytest.fixture
def officer_a(station_a):
    return StaffUserFactory(username="officer-a", station=station_a)


@pytest.fixture
def manager_a(station_a):
    return StaffUserFactory(
        username="manager-a", station=station_a, station__role=MembershipRole.MANAGER
    )


@pytest.fixture
def city_admin(db):
    user = StaffUserFactory(username="city-admin")
    user.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    return user


@pytest.fixture
def shared(station_a, station_b):
    """A resident station A held first (ended: they moved) and station B holds now."""
    return shared_resident_make(station_a=station_a, station_b=station_b)
