"""Who sees which station: the one rule every admin screen shares."""

import pytest
from django.contrib.auth.models import Group

from stations.constants import GROUP_CITY_ADMIN, MembershipRole
from stations.selectors import stations_for_user, user_is_member, user_manages
from tests.stations.factories import StaffUserFactory, StationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_officer_of_one_station_is_not_member_of_another(station, other_station):
    officer = StaffUserFactory(station=station)
    assert list(stations_for_user(officer)) == [station]
    assert user_is_member(officer, station)
    assert not user_is_member(officer, other_station)


def test_officer_is_not_a_manager_but_a_manager_is(station):
    officer = StaffUserFactory(station=station)
    manager = StaffUserFactory(station=station, station__role=MembershipRole.MANAGER)
    assert not user_manages(officer, station)
    assert user_manages(manager, station)
    assert list(stations_for_user(manager, role=MembershipRole.MANAGER)) == [station]
    assert list(stations_for_user(officer, role=MembershipRole.MANAGER)) == []


def test_city_administrator_and_superuser_see_every_station(station, other_station):
    city = StaffUserFactory()
    city.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    root = UserFactory(is_superuser=True, is_staff=True)
    assert set(stations_for_user(city)) == {station, other_station}
    assert set(stations_for_user(root)) == {station, other_station}


def test_anonymous_inactive_and_non_staff_users_see_nothing(station):
    from django.contrib.auth.models import AnonymousUser

    former = StaffUserFactory(station=station, is_active=False)
    resident_like = UserFactory()
    assert not stations_for_user(AnonymousUser()).exists()
    assert not stations_for_user(former).exists()
    assert not stations_for_user(resident_like).exists()


def test_member_of_two_stations_sees_both_once():
    a, b = StationFactory(code="a1"), StationFactory(code="b1")
    user = StaffUserFactory(station=a)
    from stations.services import station_membership_set

    station_membership_set(user=user, station=b, role=MembershipRole.MANAGER)
    assert sorted(s.code for s in stations_for_user(user)) == ["a1", "b1"]
