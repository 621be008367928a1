"""The officer's workspace: queues, export, what changed, messages in the resident's language."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from registration import services
from registration.constants import RegistrationStatus
from registration.dashboard import registration_figures_by_station
from registration.selectors import registration_changes
from tests.registration.factories import RegistrationFactory

pytestmark = pytest.mark.django_db
S = RegistrationStatus
CHANGELIST = reverse("admin:registration_registration_changelist")
EXPORT = reverse("admin:registration_registration_export")


def _references(response):
    return [r.reference for r in response.context["cl"].result_list]


def test_waiting_queue_lists_the_oldest_deadline_first(client, officer, station):
    now = timezone.now()
    late = RegistrationFactory(station=station, arrival_at=now - datetime.timedelta(hours=30))
    soon = RegistrationFactory(station=station, arrival_at=now - datetime.timedelta(hours=20))
    fresh = RegistrationFactory(station=station, arrival_at=now - datetime.timedelta(hours=1))
    for registration in (late, soon, fresh):
        registration.deadline_at = registration.arrival_at + datetime.timedelta(hours=24)
        registration.save()
    RegistrationFactory(station=station, status=S.REGISTERED)
    client.force_login(officer)
    assert _references(client.get(CHANGELIST, {"queue": "waiting"})) == [
        late.reference,
        soon.reference,
        fresh.reference,
    ]
    assert _references(client.get(CHANGELIST, {"queue": "overdue"})) == [late.reference]


def test_expiring_and_mine_queues(client, officer, station):
    expiring = RegistrationFactory(
        station=station,
        status=S.REGISTERED,
        visa_valid_until=timezone.localdate() + datetime.timedelta(days=10),
    )
    RegistrationFactory(station=station, status=S.REGISTERED)
    decided = RegistrationFactory(station=station)
    services.registration_mark_registered(registration=decided, actor=officer)
    client.force_login(officer)
    assert _references(client.get(CHANGELIST, {"queue": "expiring"})) == [expiring.reference]
    assert _references(client.get(CHANGELIST, {"queue": "mine"})) == [decided.reference]


def _export(client, params=None):
    response = client.get(EXPORT, params or {})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_export_leaves_out_document_numbers_without_the_permission(
    client, officer, station, other_station
):
    mine = RegistrationFactory(station=station)
    RegistrationFactory(station=other_station)
    client.force_login(officer)
    header, *rows = _export(client)
    assert [row[0] for row in rows] == [mine.reference]
    flat = ",".join(",".join(row) for row in [header, *rows])
    assert mine.resident.document_number not in flat
    assert mine.visa_number not in flat
    officer.user_permissions.add(Permission.objects.get(codename="export_document_numbers"))
    header, *rows = _export(client)
    assert mine.resident.document_number in rows[0]
    assert mine.visa_number in rows[0]


def test_export_follows_the_queue(client, officer, station):
    waiting = RegistrationFactory(station=station)
    RegistrationFactory(station=station, status=S.REGISTERED)
    client.force_login(officer)
    _header, *rows = _export(client, {"queue": "waiting"})
    assert [row[0] for row in rows] == [waiting.reference]


def test_changes_since_previous_version_show_before_and_after(officer, station):
    registration = RegistrationFactory(station=station, address="Room 1, Old Road")
    registration.address = "Room 9, New Road"
    registration.visa_valid_until = registration.visa_valid_until + datetime.timedelta(days=365)
    registration.save()
    changes = {
        label: (before, after)
        for label, before, after in registration_changes(registration=registration)
    }
    assert changes["address"] == ("Room 1, Old Road", "Room 9, New Road")
    assert "valid until" in " ".join(changes)


def test_change_page_shows_the_changes(client, officer, station):
    registration = RegistrationFactory(station=station, address="Room 1, Old Road")
    registration.address = "Room 9, New Road"
    registration.save()
    client.force_login(officer)
    page = client.get(reverse("admin:registration_registration_change", args=[registration.pk]))
    assert "<del>Room 1, Old Road</del>" in page.text
    assert "<ins>Room 9, New Road</ins>" in page.text


@pytest.mark.parametrize(("language", "expected"), [("en", "Please check"), ("zh-hans", "请核对")])
def test_correction_message_starts_in_the_residents_language(
    client, officer, station, language, expected
):
    registration = RegistrationFactory(station=station, resident__preferred_language=language)
    officer.user_permissions.add(Permission.objects.get(codename="review_registration"))
    client.force_login(officer)
    url = reverse("admin:registration_registration_review", args=[registration.pk, "correction"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert expected in page.context["form"]["message"].value()
    assert registration.reference in page.context["form"]["message"].value()


def test_move_into_another_station_shows_it_nothing_of_the_old_stay(client, station, other_station):
    old = RegistrationFactory(station=other_station, address="Room 1, Other District Road")
    new = RegistrationFactory(
        station=station, resident=old.resident, previous=old, address="Room 9, New Road"
    )
    assert registration_changes(registration=new) == []
    same = RegistrationFactory(
        station=station, resident=new.resident, previous=new, address="Room 10, New Road"
    )
    assert ("address", "Room 9, New Road", "Room 10, New Road") in [
        (str(label), before, after)
        for label, before, after in registration_changes(registration=same)
    ]


def test_the_dashboard_counts_the_queues_the_list_shows(client, officer, station):
    """One definition per queue: the dashboard's figures are the admin list's queues."""
    now = timezone.now()
    RegistrationFactory(
        station=station,
        arrival_at=now - datetime.timedelta(hours=30),
        deadline_at=now - datetime.timedelta(hours=6),
    )
    RegistrationFactory(station=station)
    RegistrationFactory(station=station, status=S.CORRECTION_REQUESTED)
    RegistrationFactory(
        station=station,
        status=S.REGISTERED,
        visa_valid_until=timezone.localdate() + datetime.timedelta(days=10),
    )
    figures = registration_figures_by_station(station_ids=[station.pk], now=now)[station.pk]
    client.force_login(officer)
    for queue in ("waiting", "overdue", "corrections", "expiring"):
        assert len(_references(client.get(CHANGELIST, {"queue": queue}))) == figures[queue]
    assert figures == {"waiting": 2, "overdue": 1, "corrections": 1, "expiring": 1}
