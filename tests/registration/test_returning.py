"""The returning resident: back from a trip abroad, staying longer, a move to another station."""

import datetime

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from registration.constants import AmendmentKind, EndReason, RegistrationStatus
from registration.documents import document_file_save
from registration.models import Document, Registration
from registration.retention import registrations_ended_expire
from registration.services import (
    registration_anonymise,
    registration_end,
    registration_request_correction,
)
from tests.core.db_faults import backend_terminated_before
from tests.registration.factories import (
    jpeg_bytes,
    photo_upload,
    png_bytes,
    registration_with_token,
)

pytestmark = pytest.mark.django_db


def _with_photos(registration, kinds=("passport_page", "visa_page", "entry_stamp", "lease")):
    for kind in kinds:
        Document.objects.create(
            registration=registration, kind=kind, file=document_file_save(content=jpeg_bytes())
        )


def _reentry_data(**overrides):
    today = timezone.localdate()
    data = {
        "entry_date": (today - datetime.timedelta(days=1)).isoformat(),
        "arrival_at": (timezone.localtime() - datetime.timedelta(hours=2)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "expected_departure": (today + datetime.timedelta(days=100)).isoformat(),
        "address_unchanged": "on",
        "visa_type": "X1",
        "website": "",
        "entry_stamp": photo_upload("stamp.jpg"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _old(station, **kwargs):
    today = timezone.localdate()
    registration, token = registration_with_token(
        station=station,
        status=RegistrationStatus.REGISTERED,
        entry_date=today - datetime.timedelta(days=60),
        arrival_at=timezone.now() - datetime.timedelta(days=59),
        **kwargs,
    )
    _with_photos(registration)
    return registration, token


def test_back_from_a_trip_makes_a_linked_registration_with_documents_carried(client, station):
    old, token = _old(station)
    url = reverse("registration:update_reentry", args=[token])
    assert client.get(reverse("registration:private", args=[token])).status_code == 200
    assert client.get(url).status_code == 200
    response = client.post(url, _reentry_data())
    assert response.status_code == 302, response.context["form"].errors
    assert response["Location"] == reverse("registration:receipt")
    assert client.get(response["Location"]).status_code == 200
    new = Registration.objects.get(previous=old)
    old.refresh_from_db()
    assert old.status == RegistrationStatus.ENDED and old.end_reason == EndReason.REENTERED
    assert new.resident_id == old.resident_id and new.station_id == station.pk
    assert new.entry_date == timezone.localdate() - datetime.timedelta(days=1)
    assert new.address == old.address and new.visa_number == old.visa_number
    assert new.amendments.first().kind == AmendmentKind.REENTRY
    # The link moved to the new registration.
    assert client.get(reverse("registration:private", args=[token])).context["registration"] == new
    kinds = {d.kind: d for d in new.documents.all()}
    assert set(kinds) == {"passport_page", "visa_page", "entry_stamp", "lease"}
    old_files = {d.kind: d.file.name for d in old.documents.all()}
    assert kinds["passport_page"].file.name == old_files["passport_page"]
    assert kinds["visa_page"].file.name == old_files["visa_page"]
    assert kinds["entry_stamp"].file.name != old_files["entry_stamp"]  # never carried


def test_back_from_a_trip_with_a_new_visa_asks_for_its_page(client, station):
    old, token = _old(station)
    url = reverse("registration:update_reentry", args=[token])
    until = (timezone.localdate() + datetime.timedelta(days=400)).isoformat()
    data = _reentry_data(visa_changed="on", visa_number="N7654321", visa_valid_until=until)
    response = client.post(url, data)
    assert response.status_code == 400
    assert "visa_page" in response.context["form"].errors
    data = _reentry_data(
        visa_changed="on",
        visa_number="N7654321",
        visa_valid_until=until,
        visa_page=photo_upload("visa.png", png_bytes(), "image/png"),
    )
    response = client.post(url, data)
    assert response.status_code == 302
    new = Registration.objects.get(previous=old)
    assert new.visa_number == "N7654321"
    old_visa = old.documents.get(kind="visa_page").file.name
    assert new.documents.get(kind="visa_page").file.name != old_visa


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        (
            {"entry_date": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()},
            "entry_date",
            "entry_future",
        ),
        (
            {"entry_date": (timezone.localdate() - datetime.timedelta(days=90)).isoformat()},
            "entry_date",
            "entry_not_after_previous",
        ),
        (
            {
                "visa_changed": "on",
                "visa_number": "N7654321",
                "visa_valid_until": (timezone.localdate() - datetime.timedelta(days=5)).isoformat(),
            },
            "visa_valid_until",
            "visa_before_entry",
        ),
        (
            {
                "expected_departure": (
                    timezone.localdate() + datetime.timedelta(days=999)
                ).isoformat()
            },
            "expected_departure",
            "departure_after_visa",
        ),
        ({"address_unchanged": None}, "address_unchanged", "address_unchanged_required"),
    ],
)
def test_back_from_a_trip_bad_input_keeps_what_was_typed_and_the_photo(
    client, station, overrides, field, code
):
    old, token = _old(station)
    url = reverse("registration:update_reentry", args=[token])
    data = _reentry_data(**overrides)
    response = client.post(url, data)
    assert response.status_code == 400
    form = response.context["form"]
    assert code in [e.code for e in form.errors.as_data()[field]]
    assert form.data["entry_date"] == data["entry_date"]
    assert "entry_stamp" in response.context["photos"]  # the photo is kept
    assert not Registration.objects.filter(previous=old).exists()
    # Sent again without the photo: the kept one counts.
    retry = _reentry_data(entry_stamp=None)
    assert client.post(url, retry).status_code == 302


def test_back_from_a_trip_in_chinese_shows_translated_errors(client, station):
    _old_registration, token = _old(station)
    url = reverse("registration:update_reentry", args=[token])
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        url, _reentry_data(entry_date=tomorrow), headers={"accept-language": "zh-hans"}
    )
    assert response.status_code == 400
    assert "入境日期不能晚于今天。" in response.content.decode()


def test_staying_longer_records_an_amendment_without_review(client, station):
    registration, token = _old(station)
    url = reverse("registration:update_stay", args=[token])
    assert client.get(url).status_code == 200
    later = timezone.localdate() + datetime.timedelta(days=250)
    response = client.post(url, {"expected_departure": later.isoformat(), "website": ""})
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.expected_departure == later
    assert registration.status == RegistrationStatus.REGISTERED  # no review needed
    assert registration.amendments.filter(kind=AmendmentKind.DEPARTURE).exists()
    assert registration.history.count() >= 2


def test_staying_past_the_visa_is_a_field_error(client, station):
    registration, token = _old(station)
    url = reverse("registration:update_stay", args=[token])
    past_visa = registration.visa_valid_until + datetime.timedelta(days=1)
    response = client.post(url, {"expected_departure": past_visa.isoformat(), "website": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()["expected_departure"]
    assert errors[0].code == "departure_after_visa"
    assert response.context["form"].data["expected_departure"] == past_visa.isoformat()
    registration.refresh_from_db()
    assert registration.expected_departure != past_visa


def _move_data(station, **overrides):
    data = {
        "station": str(station.pk),
        "arrival_at": (timezone.localtime() - datetime.timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "expected_departure": (timezone.localdate() + datetime.timedelta(days=100)).isoformat(),
        "stay_reason": "study",
        "address": "Linhe East Road 88, Room 1203",
        "accommodation_type": "rented",
        "host_name": "Li Lei",
        "host_phone": "",
        "consent": "on",
        "website": "",
        "lease": photo_upload("lease.jpg"),
    }
    data.update(overrides)
    return data


def test_move_into_another_stations_area_behind_the_wall(
    client, station, other_station, officer, other_officer
):
    old, token = _old(station)
    url = reverse("registration:update_move", args=[token])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["form"]["station"].value() == station.pk  # preselected
    response = client.post(url, _move_data(other_station))
    assert response.status_code == 302
    new = Registration.objects.get(previous=old)
    assert new.station_id == other_station.pk
    old.refresh_from_db()
    assert old.end_reason == EndReason.MOVED
    carried = {d.kind for d in new.documents.all()}
    assert {"passport_page", "visa_page", "entry_stamp", "lease"} <= carried

    # The new station's officer sees the registration and its carried photos.
    client.force_login(other_officer)
    change = reverse("admin:registration_registration_change", args=[new.pk])
    response = client.get(change)
    assert response.status_code == 200
    passport = new.documents.get(kind="passport_page")
    assert str(passport.public_id) in response.content.decode()
    document_url = reverse("registration:staff_document", args=[passport.public_id])
    assert client.get(document_url).status_code == 200

    # The old station sees the move and the new station's name, never the new address.
    client.force_login(officer)
    response = client.get(reverse("admin:registration_registration_change", args=[old.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Linhe East Road" not in page
    assert other_station.name in page
    assert client.get(change).status_code in (302, 404)


def test_retention_of_the_old_registration_keeps_files_the_new_one_uses(
    client, station, django_capture_on_commit_callbacks
):
    old, token = _old(station)
    response = client.post(reverse("registration:update_move", args=[token]), _move_data(station))
    assert response.status_code == 302
    new = Registration.objects.get(previous=old)
    shared = new.documents.get(kind="passport_page").file.name
    only_old = old.documents.get(kind="lease").file.name
    later = timezone.now() + datetime.timedelta(days=20 * 365)
    assert registrations_ended_expire(now=later, dry_run=True).files == 1
    with django_capture_on_commit_callbacks(execute=True):
        outcome = registrations_ended_expire(now=later, dry_run=False)
    assert outcome.anonymised == 1  # the old one; the new one is active
    assert outcome.files == 1  # the old lease only: the other three are carried over
    assert default_storage.exists(shared)
    assert not default_storage.exists(only_old)
    assert client.get(reverse("registration:private", args=[token])).status_code == 200
    # Once the new one goes too, its last row takes the file with it.
    registration_end(registration=new, reason=EndReason.DEPARTED)
    with django_capture_on_commit_callbacks(execute=True):
        registration_anonymise(registration=new)
    assert not default_storage.exists(shared)


def test_correction_after_a_move_keeps_the_carried_photos(client, station, officer):
    old, token = _old(station)
    response = client.post(reverse("registration:update_move", args=[token]), _move_data(station))
    assert response.status_code == 302
    new = Registration.objects.get(previous=old)
    registration_request_correction(registration=new, actor=officer, message="Room number?")
    url = reverse("registration:update_correct", args=[token])
    response = client.get(url)
    assert response.status_code == 200
    data = {k: v for k, v in response.context["form"].initial.items() if v is not None}
    data.update(
        {
            "arrival_at": timezone.localtime(new.arrival_at).strftime("%Y-%m-%dT%H:%M"),
            "address": "Linhe East Road 88, Room 1204",
            "nationality": new.resident.nationality.code,
            "consent": "on",
            "website": "",
        }
    )
    for name in ("date_of_birth", "document_expiry", "visa_valid_until", "entry_date"):
        data[name] = data[name].isoformat()
    data["expected_departure"] = new.expected_departure.isoformat()
    response = client.post(url, {k: v for k, v in data.items() if v != ""})
    assert response.status_code == 302, response.context["form"].errors
    new.refresh_from_db()
    assert new.status == RegistrationStatus.RESUBMITTED
    assert new.address.endswith("1204")


def test_staff_see_a_reentry_and_what_changed(client, station, officer):
    old, token = _old(station)
    response = client.post(reverse("registration:update_reentry", args=[token]), _reentry_data())
    assert response.status_code == 302
    new = Registration.objects.get(previous=old)
    client.force_login(officer)
    response = client.get(reverse("admin:registration_registration_changelist"))
    assert response.status_code == 200
    assert "back from a trip abroad (re-entry)" in response.content.decode()
    response = client.get(reverse("admin:registration_registration_change", args=[new.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "back from a trip abroad (re-entry)" in page
    labels = [label for label, _before, _after in response.context["changes"]]
    assert "date of entry into China" in labels
    assert len(response.context["photos"]) == 4
    carried = {d.public_id for d in new.documents.exclude(kind="entry_stamp")}
    assert response.context["photos_carried"] == carried
    assert page.count("carried over from the previous registration") == 3


def test_a_move_posted_to_an_inactive_or_unknown_station_is_a_field_error(
    client, station, other_station
):
    old, token = _old(station)
    other_station.is_active = False
    other_station.save()
    url = reverse("registration:update_move", args=[token])
    for forged in (str(other_station.pk), "999999", "'; DROP TABLE x"):
        data = {**_move_data(other_station), "station": forged}
        response = client.post(url, data)
        assert response.status_code == 400
        assert "station" in response.context["form"].errors
        assert response.context["form"].data["address"] == "Linhe East Road 88, Room 1203"
    assert not Registration.objects.filter(previous=old).exists()


def test_a_move_without_the_station_field_stays_at_the_station(client, station):
    old, token = _old(station)
    data = _move_data(station)
    del data["station"]  # a page loaded before the field existed
    response = client.post(reverse("registration:update_move", args=[token]), data)
    assert response.status_code == 302
    assert Registration.objects.get(previous=old).station == station


def test_back_from_a_trip_with_an_expired_visa_asks_for_the_new_one(client, station):
    today = timezone.localdate()
    old, token = _old(station, visa_valid_until=today - datetime.timedelta(days=5))
    response = client.post(reverse("registration:update_reentry", args=[token]), _reentry_data())
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()
    assert [e.code for e in errors["visa_changed"]] == ["visa_before_entry"]
    assert not Registration.objects.filter(previous=old).exists()


@pytest.mark.django_db(transaction=True)
def test_back_from_a_trip_survives_a_connection_lost_during_the_send(client, station):
    """The same bounded retry as the public form: stored once, the receipt shown."""
    old, token = _old(station)
    url = reverse("registration:update_reentry", args=[token])
    with backend_terminated_before(r'^INSERT INTO "registration_registration"') as killed:
        response = client.post(url, _reentry_data())
    assert killed.killed
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert Registration.objects.filter(previous=old).count() == 1
