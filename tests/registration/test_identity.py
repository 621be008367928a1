"""
A resident's identity belongs to that resident (docs/identity.md), tried as an attacker would:
a stranger who knows a passport number registers with it, asks for the victim's lost link and
reads what their own link gives; staff confirm a match; another station's officer looks.
"""

import json
import re

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client, TestCase
from django.urls import reverse

from notifications import sms
from privacy.models import AuditEntry
from registration.constants import RegistrationStatus
from registration.models import Registration, Resident
from registration.selectors import residents_for_check_in
from tests.registration.factories import (
    RegistrationFactory,
    ResidentFactory,
    form_data,
    photos,
    registration_with_token,
)
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db
S = RegistrationStatus

VICTIM = {
    "surname": "Diallo",
    "given_names": "Aminata",
    "date_of_birth": "1999-04-12",
    "nationality": "SN",
    "document_number": "A12345678",
    "email": "aminata@example.org",
    "phone": "13800138000",
    "visa_number": "V7654321",
    "address": "Building 3, Unit 2, Room 501, Shipai West Road",
}
ATTACKER = {
    "surname": "Mallory",
    "given_names": "Eve",
    "date_of_birth": "1990-01-01",
    "email": "mallory@example.net",
    "phone": "13900139000",
    "visa_number": "V1111111",
    "address": "Room 1, Linhe East Road",
}


def _register(client, station, **fields) -> tuple[Registration, str]:
    """Fill in the public form of ``station`` as a phone would; return the registration and link."""
    url = reverse("registration:register", args=[station.code])
    review = client.post(url, {**form_data(**fields), **photos()})
    assert review.status_code == 200
    # The confirmation is delivered, as after a real commit: later messages about the same
    # registration wait for it (notifications/ordering.py).
    with TestCase.captureOnCommitCallbacks(execute=True):
        sent = client.post(url, {**form_data(**fields), "step": "submit"})
    assert sent.status_code == 302
    receipt = client.get(reverse("registration:receipt"))
    assert receipt.status_code == 200
    link = receipt.context["private_link"]
    token = re.search(r"/registration/r/([A-Za-z0-9_-]+)/", link).group(1)
    return receipt.context["registration"], token


def _private(token, name="private"):
    return reverse(f"registration:{name}", kwargs={"token": token})


def _change_url(registration):
    return reverse("admin:registration_registration_change", args=[registration.pk])


def _confirm_url(registration, resident):
    return reverse(
        "admin:registration_registration_same_person", args=[registration.pk, resident.pk]
    )


def test_stranger_with_known_passport_cannot_change_resident(
    station, other_station, django_capture_on_commit_callbacks
):
    victim_client, attacker_client = Client(), Client(REMOTE_ADDR="203.0.113.9")
    victim_registration, victim_token = _register(victim_client, station, **VICTIM)
    victim = Resident.objects.get(pk=victim_registration.resident_id)
    versions = victim.history.count()

    # The stranger registers at another station with the victim's nationality and passport
    # number, and their own name, date of birth, email and phone.
    attacker_registration, attacker_token = _register(
        attacker_client,
        other_station,
        **{**ATTACKER, "nationality": VICTIM["nationality"], "document_number": "a12345678"},
    )

    victim.refresh_from_db()
    assert victim.surname == "Diallo" and victim.given_names == "Aminata"
    assert victim.email == VICTIM["email"] and victim.phone.as_e164 == "+8613800138000"
    assert victim.date_of_birth.isoformat() == VICTIM["date_of_birth"]
    assert victim.history.count() == versions
    victim_registration.refresh_from_db()
    assert victim_registration.resident_id == victim.pk
    assert attacker_registration.resident_id != victim.pk

    # The lost-link form with the victim's reference and passport number: the new link goes
    # to the victim's address only.
    mail.outbox, sent_sms = [], len(sms.outbox)
    with django_capture_on_commit_callbacks(execute=True):
        lost = attacker_client.post(
            reverse("registration:lost_link"),
            {"reference": victim_registration.reference, "document_number": "A12345678"},
        )
    assert lost.status_code == 302
    assert [message.to for message in mail.outbox] == [[VICTIM["email"]]]
    assert all("13900139000" not in str(message) for message in sms.outbox[sent_sms:])

    # The victim's link still works.
    page = victim_client.get(_private(victim_token))
    assert page.status_code == 200
    assert page.context["registration"] == victim_registration

    # The stranger's own link gives only the stranger's own data.
    export = attacker_client.get(_private(attacker_token, "my_data"))
    assert export.status_code == 200
    data = json.loads(export.content)
    assert data["resident"]["surname"] == "Mallory"
    assert data["resident"]["email"] == ATTACKER["email"]
    assert [r["reference"] for r in data["registrations"]] == [attacker_registration.reference]
    text = export.content.decode()
    for secret in (VICTIM["email"], VICTIM["visa_number"], VICTIM["address"], "Aminata"):
        assert secret not in text
    assert victim_registration.reference not in text


def test_lost_link_keeps_the_old_link_until_the_new_one_is_opened(
    client, station, django_capture_on_commit_callbacks
):
    registration, old_token = registration_with_token(station=station)
    for _ in range(2):  # a stranger may ask twice; the resident loses nothing
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                reverse("registration:lost_link"),
                {
                    "reference": registration.reference,
                    "document_number": registration.resident.document_number,
                },
            )
    assert client.get(_private(old_token)).status_code == 200
    first, latest = (
        re.search(r"/registration/r/([A-Za-z0-9_-]+)/", message.body).group(1)
        for message in mail.outbox
    )
    assert client.get(_private(first)).status_code == 404  # replaced by the second request

    # The resident opens the newest link: it becomes their link, and the old one stops.
    opened = client.get(_private(latest))
    assert opened.status_code == 200
    assert opened.context["registration"] == registration
    assert client.get(_private(latest, "my_data")).status_code == 200
    assert client.get(_private(old_token)).status_code == 404


def test_moving_drops_a_lost_link_not_yet_opened(
    client, station, django_capture_on_commit_callbacks
):
    from registration import services

    registration, token = registration_with_token(station=station)
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_link_resend(
            reference=registration.reference,
            document_number=registration.resident.document_number,
        )
    pending = re.search(r"/registration/r/([A-Za-z0-9_-]+)/", mail.outbox[0].body).group(1)
    moved = services.registration_move(
        registration=registration,
        data={"address": "Building 9, Room 1203, Tianhe North Road"},
        attempt=None,
        language="en",
        token=token,
    )
    assert moved.registration.resident_id == registration.resident_id  # the proven owner
    assert client.get(_private(pending)).status_code == 404
    assert client.get(_private(token)).context["registration"] == moved.registration


def test_staff_confirm_a_suggested_match_without_copying_anything(
    client, station, officer, django_capture_on_commit_callbacks
):
    earlier = RegistrationFactory(
        station=station,
        status=S.ENDED,
        resident__nationality="SN",
        resident__document_number="A12345678",
        resident__email="old@example.org",
    )
    old_resident = Resident.objects.get(pk=earlier.resident_id)
    versions = old_resident.history.count()
    # The same person comes back without their link and fills in the public form again.
    new, _token = _register(Client(), station, **{**VICTIM, "email": "new@example.org"})

    client.force_login(officer)
    page = client.get(_change_url(new))
    assert page.status_code == 200
    assert [r.pk for r in page.context["same_person_suggestions"]] == [old_resident.pk]
    assert list(page.context["other_registrations"]) == []  # a suggestion links nothing yet
    assert _confirm_url(new, old_resident) in page.text

    assert client.get(_confirm_url(new, old_resident)).status_code == 403  # POST only
    response = client.post(_confirm_url(new, old_resident))
    assert response.status_code == 302

    new_resident = Resident.objects.get(pk=new.resident_id)
    assert new_resident.same_person_as == old_resident
    assert new_resident.same_person_confirmed_by == officer
    assert new_resident.email == "new@example.org"
    old_resident.refresh_from_db()
    assert old_resident.email == "old@example.org"
    assert old_resident.history.count() == versions
    assert AuditEntry.objects.filter(
        user=officer, object_id=str(new.pk), detail__contains="same person"
    ).exists()

    page = client.get(_change_url(new))
    assert page.status_code == 200
    assert list(page.context["other_registrations"]) == [earlier]
    assert page.context["same_person_suggestions"] == []

    # Messages about each registration still go to its own contact details.
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("registration:lost_link"),
            {"reference": earlier.reference, "document_number": "A12345678"},
        )
    assert [message.to for message in mail.outbox] == [["old@example.org"]]


def test_a_confirmed_record_joins_the_whole_group(station, officer):
    from registration import services

    first = RegistrationFactory(station=station, status=S.ENDED, resident__document_number="P1")
    second = RegistrationFactory(station=station, status=S.ENDED, resident__document_number="P1")
    third = RegistrationFactory(station=station, resident__document_number="P1")
    services.resident_match_confirm(
        registration=second, other_resident=first.resident, actor=officer
    )
    services.resident_match_confirm(
        registration=first, other_resident=third.resident, actor=officer
    )
    ids = {first.resident_id, second.resident_id}
    assert set(Resident.objects.filter(pk__in=ids).values_list("same_person_as", flat=True)) == {
        third.resident_id
    }
    with pytest.raises(ValidationError) as refused:
        services.resident_match_confirm(
            registration=second, other_resident=third.resident, actor=officer
        )
    assert refused.value.code == "match_not_suggested"  # already one person


def test_officer_of_another_station_sees_no_suggestion_of_other_station_data(
    client, station, other_station, other_officer
):
    victim_registration = RegistrationFactory(
        station=station,
        resident__nationality="SN",
        resident__document_number="A12345678",
        resident__surname="Victimsurname",
        resident__email="victim@example.org",
    )
    victim = victim_registration.resident
    stranger, _token = _register(
        Client(),
        other_station,
        **{**ATTACKER, "nationality": "SN", "document_number": "A12345678"},
    )

    client.force_login(other_officer)
    page = client.get(_change_url(stranger))
    assert page.status_code == 200
    assert page.context["same_person_suggestions"] == []
    for secret in ("VICTIMSURNAME", "victim@example.org", victim_registration.reference):
        assert secret not in page.text

    # Guessing the victim's record id: refused, nothing linked, nothing told.
    response = client.post(_confirm_url(stranger, victim), follow=True)
    assert response.status_code == 200
    assert "cannot be confirmed" in response.text
    assert Resident.objects.get(pk=stranger.resident_id).same_person_as is None
    # The victim's resident record and its history stay behind the wall.
    assert (
        client.get(reverse("admin:registration_resident_change", args=[victim.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("admin:registration_resident_history", args=[victim.pk])).status_code
        == 404
    )
    version = reverse(
        "admin:registration_resident_simple_history",
        args=[victim.pk, victim.history.first().history_id],
    )
    assert client.get(version).status_code == 404


def test_suggestion_shows_only_the_officers_own_stations_stays(
    client, station, other_station, other_officer
):
    # A resident who moved from station A to B through their link: known to both.
    resident = ResidentFactory(nationality="SN", document_number="A12345678")
    at_a = RegistrationFactory(station=station, resident=resident, status=S.ENDED)
    at_b = RegistrationFactory(station=other_station, resident=resident, status=S.ENDED)
    new, _token = _register(Client(), other_station, **VICTIM)

    client.force_login(other_officer)
    page = client.get(_change_url(new))
    assert page.status_code == 200
    (suggestion,) = page.context["same_person_suggestions"]
    assert suggestion.visible_registrations == [at_b]
    assert at_b.reference in page.text and at_a.reference not in page.text


def test_officer_without_review_permission_cannot_confirm(client, station):
    from django.contrib.auth.models import Permission

    viewer = StaffUserFactory(station=station)
    viewer.groups.clear()
    viewer.user_permissions.add(Permission.objects.get(codename="view_registration"))
    earlier = RegistrationFactory(station=station, resident__document_number="A12345678")
    new = RegistrationFactory(station=station, resident__document_number="A12345678")
    client.force_login(viewer)
    assert client.post(_confirm_url(new, earlier.resident)).status_code == 403
    assert Resident.objects.get(pk=new.resident_id).same_person_as is None


def test_check_in_round_asks_a_confirmed_person_once(station, officer):
    from registration import services

    earlier = RegistrationFactory(station=station, resident__document_number="A12345678")
    again = RegistrationFactory(station=station, resident__document_number="A12345678")
    # Unconfirmed, the two records are two people: a stranger's form decides nothing.
    assert set(residents_for_check_in(station=station)) == {earlier.resident, again.resident}
    services.resident_match_confirm(
        registration=again, other_resident=earlier.resident, actor=officer
    )
    # Confirmed: asked once, at the newest record's contact details.
    assert list(residents_for_check_in(station=station)) == [again.resident]
