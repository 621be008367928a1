"""Writes of the stations app: visit counting without a write per view, memberships."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from stations.constants import GROUP_MANAGER, GROUP_OFFICER, MembershipRole
from stations.models import StationMembership, StationVisitDay
from stations.selectors import station_visit_counts, station_visits_recent, user_is_member
from stations.services import (
    station_create_or_update,
    station_membership_remove,
    station_membership_set,
    station_visit_record,
    station_visits_flush,
)
from stations.tasks import station_visits_flush as flush_task
from tests.stations.factories import StaffUserFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_page_views_are_counted_in_the_cache_without_touching_the_database(
    client, station, django_assert_num_queries
):
    client.get("/s/shipai/")  # warm the page cache
    with django_assert_num_queries(0):
        for _ in range(3):
            client.get("/s/shipai/")
    assert not StationVisitDay.objects.exists()
    assert station_visit_counts([station.pk])[station.pk] == 4


def test_flush_writes_the_counts_once_and_keeps_later_views(station, other_station):
    for _ in range(5):
        station_visit_record(station_id=station.pk)
    station_visit_record(station_id=other_station.pk)
    assert station_visits_flush() == 6
    assert station_visits_flush() == 0  # nothing twice
    today = timezone.localdate()
    assert StationVisitDay.objects.get(station=station, day=today).count == 5
    station_visit_record(station_id=station.pk)
    assert station_visit_counts([station.pk])[station.pk] == 6  # stored + still in the cache
    assert flush_task.delay().get() == 1
    assert StationVisitDay.objects.get(station=station, day=today).count == 6


def test_yesterdays_views_are_flushed_to_yesterday(station):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    station_visit_record(station_id=station.pk, day=yesterday)
    station_visits_flush()
    assert StationVisitDay.objects.get(station=station).day == yesterday
    assert station_visits_recent(station, days=2) == [(timezone.localdate(), 0), (yesterday, 1)]


def test_head_requests_and_unknown_codes_are_not_counted(client, station):
    client.head("/s/shipai/")
    client.get("/s/nosuch/")
    assert station_visit_counts([station.pk]) == {}


def test_visit_counter_never_breaks_the_page_when_the_cache_fails(client, station, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", broken)
    monkeypatch.setattr(cache, "add", broken)
    assert client.get("/s/shipai/").status_code == 200


def test_the_flush_runs_on_the_beat_schedule():
    entries = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert "stations.station_visits_flush" in entries


def test_membership_makes_staff_and_adds_the_role_group(station):
    user = UserFactory()
    station_membership_set(user=user, station=station, role=MembershipRole.MANAGER)
    user.refresh_from_db()
    assert user.is_staff
    assert user.groups.filter(name=GROUP_MANAGER).exists()
    membership = station_membership_set(user=user, station=station, role=MembershipRole.OFFICER)
    assert StationMembership.objects.get(user=user).role == MembershipRole.OFFICER
    assert Group.objects.get(name=GROUP_OFFICER).user_set.filter(pk=user.pk).exists()
    station_membership_remove(membership=membership)
    assert not user_is_member(user, station)


def test_officer_of_station_a_is_not_member_of_station_b(station, other_station):
    officer = StaffUserFactory(station=station)
    assert user_is_member(officer, station)
    assert not user_is_member(officer, other_station)
    assert not user_is_member(officer, other_station, role=MembershipRole.OFFICER)


def test_create_or_update_keeps_the_code_and_updates_texts(station):
    updated = station_create_or_update(
        code="shipai", texts={"en": {"name": "Shipai Station"}}, phone="020-1"
    )
    assert updated.pk == station.pk
    assert updated.phone == "020-1"
    assert updated.texts.get(language="en").name == "Shipai Station"


def test_views_wait_in_the_process_and_reach_the_cache_in_batches(client, station, settings):
    from django.core.cache import cache

    from stations.selectors import visit_cache_key

    settings.STATION_VISIT_BUFFER_SECONDS = 3600
    settings.STATION_VISIT_BUFFER_VIEWS = 3
    key = visit_cache_key(station.pk, timezone.localdate())
    client.get("/s/shipai/")
    client.get("/s/shipai/")
    assert cache.get(key) is None  # still in this process
    assert station_visit_counts([station.pk])[station.pk] == 2  # but counted
    client.get("/s/shipai/")
    assert cache.get(key) == 3  # handed over on the third view
    assert station_visit_counts([station.pk])[station.pk] == 3


def test_flush_takes_this_process_views_too_and_never_counts_twice(station, settings):
    settings.STATION_VISIT_BUFFER_SECONDS = 3600
    for _ in range(4):
        station_visit_record(station_id=station.pk)
    assert station_visits_flush() == 4
    assert station_visits_flush() == 0
    assert StationVisitDay.objects.get(station=station).count == 4
    assert station_visit_counts([station.pk])[station.pk] == 4


def test_buffered_views_survive_a_cache_outage(station, settings, monkeypatch):
    from django.core.cache import cache

    from stations.visits import visit_buffer_hand_over

    settings.STATION_VISIT_BUFFER_SECONDS = 3600
    station_visit_record(station_id=station.pk)

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    with monkeypatch.context() as patched:
        patched.setattr(cache, "add", down)
        patched.setattr(cache, "incr", down)
        assert visit_buffer_hand_over() == 0
    assert visit_buffer_hand_over() == 1
    assert station_visits_flush() == 1
