"""Residents' rights and retention: copy of the data, deletion on request, anonymisation."""

import datetime
import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from privacy.models import AuditEntry
from privacy.retention import retention_apply
from registration import services
from registration.constants import RegistrationStatus
from registration.models import Document, Registration, Resident
from registration.retention import attempts_expire, registrations_ended_expire
from tests.registration.factories import (
    RegistrationFactory,
    jpeg_bytes,
    photo_upload,
    registration_with_token,
)

pytestmark = pytest.mark.django_db
S = RegistrationStatus


def _photo(registration):
    _raw, attempt = services.attempt_start()
    document = services.attempt_photo_add(
        attempt=attempt, kind="visa_page", uploaded_file=photo_upload(data=jpeg_bytes())
    )
    Document.objects.filter(pk=document.pk).update(registration=registration, attempt=None)
    return document.file.name


def test_resident_downloads_a_copy_of_their_data(client, station):
    registration, token = registration_with_token(station=station)
    response = client.get(reverse("registration:my_data", args=[token]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["resident"]["document_number"] == registration.resident.document_number
    assert data["registrations"][0]["reference"] == registration.reference
    assert client.get(reverse("registration:my_data", args=["x" * 43])).status_code == 404


def test_deletion_request_then_staff_erase_after_the_stay_ended(
    client, station, officer, django_capture_on_commit_callbacks
):
    registration, token = registration_with_token(station=station)
    name = _photo(registration)
    assert client.post(reverse("registration:delete_request", args=[token])).status_code == 302
    registration.refresh_from_db()
    assert registration.deletion_requested_at is not None

    client.force_login(officer)
    changelist = reverse("admin:registration_registration_changelist")
    assert registration in client.get(changelist, {"deletion": "yes"}).context["cl"].result_list
    # Still active: refused.
    client.post(
        changelist, {"action": "erase_personal_data", "_selected_action": [registration.pk]}
    )
    assert Resident.objects.get().anonymised_at is None

    services.registration_depart(registration=registration, departed_on=timezone.localdate())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            changelist, {"action": "erase_personal_data", "_selected_action": [registration.pk]}
        )
    resident = Resident.objects.get()
    assert resident.anonymised_at is not None
    assert resident.surname == "" and resident.document_number == ""
    assert not resident.history.exists()
    registration.refresh_from_db()
    assert registration.address == "" and registration.token_hash is None
    assert not registration.history.exists()
    assert not Document.objects.exists() and not default_storage.exists(name)
    assert Registration.objects.count() == 1  # counts stay for statistics


def test_retention_anonymises_registrations_ended_long_ago_with_their_photos(
    station, settings, django_capture_on_commit_callbacks
):
    old = RegistrationFactory(station=station, status=S.ENDED)
    Registration.objects.filter(pk=old.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=400)
    )
    name = _photo(old)
    recent = RegistrationFactory(station=station, status=S.ENDED)
    active = RegistrationFactory(station=station)
    Registration.objects.filter(pk=active.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=400)
    )
    dry = registrations_ended_expire(now=timezone.now(), dry_run=True)
    assert (dry.anonymised, dry.files) == (1, 1)
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = registrations_ended_expire(now=timezone.now(), dry_run=False)
    assert (outcome.anonymised, outcome.files) == (1, 1)
    old.refresh_from_db()
    assert old.anonymised_at and old.visa_number == "" and old.address == ""
    assert old.resident.surname == ""  # their only registration
    assert not default_storage.exists(name)
    recent.refresh_from_db()
    active.refresh_from_db()
    assert recent.anonymised_at is None and active.anonymised_at is None
    assert registrations_ended_expire(now=timezone.now(), dry_run=False).anonymised == 0


def test_resident_with_an_active_registration_keeps_their_identity(station):
    resident = RegistrationFactory(station=station).resident
    old = RegistrationFactory(station=station, resident=resident, status=S.ENDED)
    Registration.objects.filter(pk=old.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=400)
    )
    registrations_ended_expire(now=timezone.now(), dry_run=False)
    resident.refresh_from_db()
    assert resident.anonymised_at is None and resident.surname


def test_two_anonymised_residents_of_one_nationality_do_not_collide(station):
    for _ in range(2):
        registration = RegistrationFactory(station=station, status=S.ENDED)
        services.registration_anonymise(registration=registration)
    assert Resident.objects.filter(anonymised_at__isnull=False).count() == 2


def test_stale_form_attempts_go_with_their_photos(station):
    _raw, attempt = services.attempt_start(station=station)
    services.attempt_photo_add(attempt=attempt, kind="lease", uploaded_file=photo_upload())
    later = timezone.now() + datetime.timedelta(days=3)
    assert attempts_expire(now=later, dry_run=True).deleted == 1
    assert attempts_expire(now=later, dry_run=False).files == 1
    assert not Document.objects.exists()


def test_rules_are_registered_with_the_privacy_runner(settings):
    assert "registration.retention.registrations_ended_expire" in settings.RETENTION_RULES
    outcomes = retention_apply(dry_run=True)
    assert {o.rule for o in outcomes} >= {
        "registration.registrations_ended",
        "registration.attempts",
    }


def test_staff_opening_a_registration_or_a_photo_is_audited(client, station, officer):
    registration = RegistrationFactory(station=station)
    _photo(registration)
    document = Document.objects.get()
    client.force_login(officer)
    client.get(reverse("admin:registration_registration_change", args=[registration.pk]))
    client.get(reverse("registration:staff_document", args=[document.public_id]))
    actions = list(AuditEntry.objects.values_list("action", flat=True))
    assert sorted(actions) == ["document_view", "view"]
    assert registration.resident.document_number not in str(
        list(AuditEntry.objects.values_list("detail", "object_repr"))
    )
