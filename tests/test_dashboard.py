"""The staff dashboard: the day's work of the user's stations, at a fixed query cost."""

import datetime

import pytest
from django.utils import timezone

from inquiries.constants import Category, ContactMethod, ContactTime, Urgency
from inquiries.services import inquiry_submit
from registration.constants import RegistrationStatus
from stations.models import StationVisitDay
from tests.registration.factories import RegistrationFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db


def _help_request(station, category=Category.HOUSING):
    return inquiry_submit(
        station=station,
        category=category,
        subject="Landlord keeps my deposit",
        description="Please help.",
        urgency=Urgency.NORMAL,
        contact_name="Amina",
        contact_method=ContactMethod.EMAIL,
        contact_time=ContactTime.ANY,
        language="en",
        email="amina@example.org",
    )


def _fill(station, other_station, n):
    now = timezone.now()
    for i in range(n):
        arrival = now - datetime.timedelta(hours=30 if i % 2 else 2)
        RegistrationFactory(
            station=station, arrival_at=arrival, deadline_at=arrival + datetime.timedelta(hours=24)
        )
    RegistrationFactory(station=station, status=RegistrationStatus.CORRECTION_REQUESTED)
    RegistrationFactory(
        station=station,
        status=RegistrationStatus.REGISTERED,
        visa_valid_until=timezone.localdate() + datetime.timedelta(days=7),
    )
    RegistrationFactory(station=other_station)
    _help_request(station)
    _help_request(station, Category.HEALTHCARE)
    _help_request(other_station)
    StationVisitDay.objects.update_or_create(
        station=station, day=timezone.localdate(), defaults={"count": 42}
    )


def test_officer_sees_own_station_figures_overdue_first(client, station, other_station):
    _fill(station, other_station, 4)
    officer = StaffUserFactory(station=station)
    client.force_login(officer)
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    dashboard = response.context["dashboard"]
    (row,) = dashboard["stations"]
    assert row.station == station
    assert (row.waiting, row.overdue, row.corrections, row.expiring) == (4, 2, 1, 1)
    assert row.cases_open == 2
    assert row.months[-1].visits == 42
    assert row.months[-1].submissions == 6
    waiting = dashboard["waiting"]
    assert {r.station_id for r in waiting} == {station.pk}
    assert waiting[0].deadline_at < timezone.now() < waiting[-1].deadline_at
    assert "linli-overdue" in response.text
    assert other_station.name not in response.text


def test_dashboard_keeps_the_months_total_and_shows_the_forms_share(client, station):
    today = timezone.localdate()
    for purpose, count in (("station", 8), ("register", 30), ("help", 4)):
        StationVisitDay.objects.create(station=station, day=today, purpose=purpose, count=count)
    client.force_login(StaffUserFactory(station=station))
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    (row,) = response.context["dashboard"]["stations"]
    assert row.months[-1].visits == 42
    assert row.months[-1].visits_split == "registration form 30 · help form 4"
    assert "42 visits, 0 submissions (registration form 30 · help form 4)</title>" in response.text


def test_dashboard_costs_the_same_queries_at_any_size(
    client, station, other_station, django_assert_num_queries
):
    officer = StaffUserFactory(station=station)
    client.force_login(officer)
    _fill(station, other_station, 3)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get("/admin/")
    _fill(station, other_station, 40)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get("/admin/")


def test_dashboard_in_chinese(client, station, other_station):
    _fill(station, other_station, 1)
    client.force_login(StaffUserFactory(station=station))
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "等待审核的住宿登记" in response.text
    assert "Waiting for review" not in response.text


def test_user_without_station_sees_no_dashboard(client, station):
    client.force_login(StaffUserFactory())
    response = client.get("/admin/")
    assert response.status_code == 200
    assert response.context["dashboard"]["stations"] == []


def test_dashboard_shows_case_workload_and_failed_messages(client, station):
    from notifications.constants import MessageStatus
    from notifications.models import Message
    from notifications.services import message_queue

    _help_request(station)
    message = message_queue(
        template="notifications/test",
        language="en",
        channel="email",
        to="x@example.org",
        context={},
        idempotency_key="dash-failed",
        station=station,
    )
    Message.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED)
    client.force_login(StaffUserFactory(station=station))
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.context["dashboard"]["cases"]["unassigned"] == 1
    assert response.context["dashboard"]["messages_failed"] == 1
    assert "1 条消息发送失败" in response.text
    assert "1 件待分派" in response.text


def test_waiting_registration_shows_the_time_left_before_its_deadline(client, station):
    arrival = timezone.now() - datetime.timedelta(hours=2)
    registration = RegistrationFactory(
        station=station, arrival_at=arrival, deadline_at=arrival + datetime.timedelta(hours=24)
    )
    client.force_login(StaffUserFactory(station=station))
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    row = response.text.split(registration.reference, 1)[1].split("</tr>", 1)[0]
    # 22 hours before the deadline, not "0 minutes left".
    assert "21\xa0hours" in row or "22\xa0hours" in row, row
    assert "0\xa0minutes left" not in row
