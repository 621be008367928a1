"""Writes of the stations app: visits counted without a write per view, memberships."""

import datetime
import threading
import time

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from stations import visits
from stations.constants import GROUP_MANAGER, GROUP_OFFICER, MembershipRole, QrTarget
from stations.models import StationMembership, StationVisitDay
from stations.selectors import station_visit_counts, station_visits_recent, user_is_member
from stations.services import (
    station_create_or_update,
    station_membership_remove,
    station_membership_set,
)
from stations.tasks import station_visits_flush as flush_task
from stations.visits import station_visits_flush, visit_count, visits_hand_over
from tests.stations.factories import StaffUserFactory, StationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_page_views_are_counted_without_touching_the_database_or_the_cache(
    client, station, django_assert_num_queries, monkeypatch
):
    from django.core.cache import cache

    client.get("/s/shipai/")  # rendered (and counted)
    cache_calls = []
    monkeypatch.setattr(cache, "incr", lambda *args, **kwargs: cache_calls.append(args))
    with django_assert_num_queries(0):
        for _ in range(3):
            assert client.get("/s/shipai/").status_code == 200  # kept page, counted
    assert not cache_calls  # tallied in the process: no round trip per view
    monkeypatch.undo()
    assert station_visit_counts([station.pk]) == {}  # not handed over yet
    assert visits_hand_over() == 4
    assert not StationVisitDay.objects.exists()
    assert station_visit_counts([station.pk])[station.pk] == 4


def test_the_process_hands_its_views_over_by_itself(client, station, settings):
    from django.core.cache import cache

    settings.STATION_VISITS_HAND_OVER_SECONDS = 0.1  # production: 5
    key = visits.visit_cache_key(station.code, timezone.localdate())
    assert client.get("/s/shipai/").status_code == 200
    deadline = time.monotonic() + 5
    while cache.get(key) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.get(key) == 1
    settings.STATION_VISITS_HAND_OVER_SECONDS = None  # the thread stops: no other test sees it
    for thread in threading.enumerate():
        if thread.name == "station-visits":
            thread.join(2)
            assert not thread.is_alive()


def test_closed_pages_and_signed_in_visitors_count_too(client, station, admin_user):
    closed = StationFactory(code="closed", is_active=False)
    assert client.get("/s/closed/").status_code == 410
    client.force_login(admin_user)  # rendered for them alone, counted all the same
    assert client.get("/s/ShiPai/?from=poster").status_code == 200
    visits_hand_over()
    assert station_visit_counts([station.pk, closed.pk]) == {station.pk: 1, closed.pk: 1}


def test_flush_writes_the_counts_once_and_keeps_later_views(station, other_station):
    for _ in range(5):
        visit_count(station.code)
    visit_count(other_station.code)
    assert station_visits_flush() == 6
    assert station_visits_flush() == 0  # nothing twice
    today = timezone.localdate()
    assert StationVisitDay.objects.get(station=station, day=today).count == 5
    visit_count(station.code)
    visits_hand_over()
    assert station_visit_counts([station.pk])[station.pk] == 6  # stored + still in the cache
    assert flush_task.delay().get() == 1
    assert StationVisitDay.objects.get(station=station, day=today).count == 6


def test_yesterdays_views_are_flushed_to_yesterday(station):
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    visit_count(station.code, day=yesterday)
    station_visits_flush()
    assert StationVisitDay.objects.get(station=station).day == yesterday
    assert station_visits_recent(station, days=2) == [(timezone.localdate(), 0), (yesterday, 1)]


def test_head_requests_qr_codes_and_unknown_codes_are_not_counted(client, station):
    client.head("/s/shipai/")
    client.get("/s/shipai/qr.svg")
    client.get("/s/nosuch/")
    client.post("/s/shipai/")
    assert visits_hand_over() == 0
    assert station_visit_counts([station.pk]) == {}


def test_the_qr_codes_forms_are_counted_per_purpose_after_a_flush(client, station):
    for _ in range(2):
        assert client.get("/s/shipai/register/").status_code == 200
    assert client.get("/s/shipai/help/").status_code == 200
    assert client.get("/s/shipai/").status_code == 200
    assert station_visits_flush() == 4
    stored = dict(StationVisitDay.objects.filter(station=station).values_list("purpose", "count"))
    assert stored == {QrTarget.REGISTER: 2, QrTarget.HELP: 1, QrTarget.STATION: 1}
    assert station_visit_counts([station.pk]) == {station.pk: 4}
    assert station_visits_recent(station, days=1) == [(timezone.localdate(), 4)]


def test_posts_to_the_forms_and_staff_visits_are_not_counted(client, station, admin_user):
    assert client.post("/s/shipai/register/", {"step": "review"}).status_code == 400
    assert client.post("/s/shipai/help/", {"subject": ""}).status_code == 400
    assert client.get("/s/nosuch/register/").status_code == 404
    client.force_login(admin_user)  # an officer trying the form out is no visitor
    assert client.get("/s/shipai/register/").status_code == 200
    assert client.get("/s/shipai/help/").status_code == 200
    assert station_visits_flush() == 0
    assert not StationVisitDay.objects.exists()


def test_views_counted_before_purposes_existed_are_flushed_as_station_page_views(station):
    from django.core.cache import cache

    # A counter handed over by a process running the code before the upgrade.
    cache.set(f"stations:visits:{timezone.localdate().isoformat()}:{station.code}", 3)
    assert station_visits_flush() == 3
    assert StationVisitDay.objects.get(station=station).purpose == QrTarget.STATION


def test_a_hand_over_that_meets_the_cache_down_loses_those_views_and_says_so(
    client, station, monkeypatch, caplog
):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "incr", broken)
    monkeypatch.setattr(cache, "add", broken)
    for _ in range(2):  # rendered, then kept: the page never waits on the counter
        assert client.get("/s/shipai/").status_code == 200
    assert visits_hand_over() == 0
    assert "2 views of station shipai lost" in caplog.text
    monkeypatch.undo()
    assert visits_hand_over() == 0  # gone, not counted twice later
    assert station_visit_counts([station.pk]) == {}


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
