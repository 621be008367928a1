"""Public pages: form edge cases, receipt, private-link updates, lost link, photo access."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from registration import services
from registration.constants import RegistrationStatus
from registration.models import Document, Registration, SubmissionAttempt
from stations.qr import qr_svg
from tests.registration.factories import (
    RegistrationFactory,
    form_data,
    jpeg_bytes,
    photo_upload,
    photos,
    registration_with_token,
)

pytestmark = pytest.mark.django_db
S = RegistrationStatus


def _register_url(station):
    return reverse("registration:register", args=[station.code])


def _submit(client, station, **overrides):
    client.post(_register_url(station), {**form_data(**overrides), **photos()})
    return client.post(_register_url(station), {**form_data(**overrides), "step": "submit"})


def _private(token, name="private", **kwargs):
    return reverse(f"registration:{name}", kwargs={"token": token, **kwargs})


def test_unknown_station_is_404(client, db):
    assert client.get("/s/nowhere/register/").status_code == 404


def test_inactive_station_takes_no_registrations(client, station):
    station.is_active = False
    station.save()
    response = client.get(_register_url(station))
    assert response.status_code == 410
    assert "form" not in response.context
    assert "This station is closed" in response.text
    assert client.post(_register_url(station), {}).status_code == 410


def test_form_sections_and_native_inputs(client, station):
    page = client.get(_register_url(station)).text
    for section in ("identity", "document", "visa", "stay", "contact", "photos", "consent"):
        assert f'id="section-{section}"' in page
    assert 'type="datetime-local"' in page and 'type="tel"' in page
    assert 'name="website"' in page  # honeypot


def test_edit_from_review_keeps_answers_and_photos(client, station):
    client.post(_register_url(station), {**form_data(), **photos()})
    response = client.post(_register_url(station), {**form_data(), "step": "edit"})
    assert response.status_code == 200
    assert response.context["form"].initial["surname"] == "Diallo"
    assert len(response.context["photos"]) == 3
    assert not Registration.objects.exists()


def test_malicious_upload_gets_a_message_and_nothing_is_stored(client, station):
    data = {
        **form_data(),
        "passport_page": photo_upload("passport.jpg", b"%PDF-1.4 fake", "image/jpeg"),
        "visa_page": photo_upload(
            "v.svg", b"<svg><script>alert(1)</script></svg>", "image/svg+xml"
        ),
        "entry_stamp": photo_upload(),
    }
    response = client.post(_register_url(station), data)
    assert response.status_code == 400
    errors = response.context["form"].errors.as_data()
    assert errors["passport_page"][0].code == "image_invalid"
    assert errors["visa_page"][0].code == "image_invalid"
    assert list(Document.objects.values_list("kind", flat=True)) == ["entry_stamp"]


def test_too_many_files_in_one_request_is_a_400(client, station, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 5
    files = {f"file{i}": photo_upload(f"{i}.jpg", b"x") for i in range(6)}
    response = client.post(_register_url(station), {**form_data(), **files})
    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_a_double_tap_on_send_makes_one_registration(client, station):
    first = _submit(client, station)
    second = client.post(_register_url(station), {**form_data(), "step": "submit"})
    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("registration:receipt")
    assert Registration.objects.count() == 1
    # Starting a new form later is not blocked.
    assert client.post(_register_url(station), {**form_data(), **photos()}).status_code == 200


def test_honeypot_blocks_the_submission(client, station):
    client.post(_register_url(station), {**form_data(), **photos()})
    response = client.post(_register_url(station), {**form_data(website="x"), "step": "submit"})
    assert response.status_code == 400
    assert not Registration.objects.exists()


def test_late_submission_says_so_on_the_receipt(client, station):
    arrival = (timezone.localtime() - datetime.timedelta(hours=30)).strftime("%Y-%m-%dT%H:%M")
    response = _submit(client, station, arrival_at=arrival)
    receipt = client.get(response["Location"])
    assert receipt.context["late"] is True
    assert "after the 24-hour deadline" in receipt.text


def test_receipt_shows_time_left_and_a_qr_with_only_the_admin_url(client, station):
    receipt = client.get(_submit(client, station)["Location"])
    registration = Registration.objects.get()
    assert receipt.context["late"] is False
    assert receipt.context["hours_left"] == 20  # arrived 3 h before, deadline 24 h
    assert "Sent in time" in receipt.text
    expected = "https://linli.example.org" + reverse(
        "admin:registration_registration_by_reference", args=[registration.reference]
    )
    assert qr_svg(expected).decode() in receipt.text


def test_receipt_query_count_is_small_and_fixed(client, station, django_assert_max_num_queries):
    response = _submit(client, station)
    # Session, registration with resident and station, station texts, photos, and the
    # session update (inside a savepoint: 2 more statements). Same for any number of photos.
    with django_assert_max_num_queries(7):
        assert client.get(response["Location"]).status_code == 200


def test_receipt_without_a_submission_redirects(client, db):
    assert client.get(reverse("registration:receipt")).status_code == 302


def test_private_link_with_a_wrong_token_is_404(client, station):
    RegistrationFactory(station=station)
    assert client.get(_private("x" * 43)).status_code == 404
    assert client.get(_private("short")).status_code == 404


def test_private_page_is_not_cached(client, station):
    _registration, token = registration_with_token(station=station)
    response = client.get(_private(token))
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]


def test_visa_renewal_through_the_link_keeps_the_photo_after_an_error(client, station):
    registration, token = registration_with_token(station=station, status=S.REGISTERED)
    url = _private(token, "update_visa")
    bad = client.post(
        url,
        {
            "visa_type": "residence_permit",
            "visa_number": "RP1",
            "visa_valid_until": registration.visa_valid_until.isoformat(),
            "visa_page": photo_upload(),
        },
    )
    assert bad.status_code == 400
    assert (
        bad.context["form"].errors.as_data()["visa_valid_until"][0].code == "valid_until_not_later"
    )
    assert len(bad.context["photos"]) == 1
    until = registration.visa_valid_until + datetime.timedelta(days=365)
    good = client.post(
        url,
        {
            "visa_type": "residence_permit",
            "visa_number": "RP1",
            "visa_valid_until": until.isoformat(),
        },
    )
    assert good.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.RESUBMITTED
    assert registration.documents.filter(kind="visa_page").count() == 1


def test_new_travel_document_through_the_link(client, station):
    registration, token = registration_with_token(station=station)
    expiry = (timezone.localdate() + datetime.timedelta(days=3650)).isoformat()
    response = client.post(
        _private(token, "update_document"),
        {
            "document_type": "passport",
            "document_number": "N1234567",
            "document_expiry": expiry,
            "passport_page": photo_upload(),
        },
    )
    assert response.status_code == 302
    registration.resident.refresh_from_db()
    assert registration.resident.document_number == "N1234567"


def test_new_travel_document_with_another_persons_number_reveals_and_changes_nothing_else(
    client, station
):
    """
    A private link may set any number on its own resident (the public form can too), but
    the answer is the same as for an unknown number — no "already registered" oracle — and
    the other person's record is untouched.
    """
    other = RegistrationFactory(station=station)
    before = other.resident.history.count()
    registration, token = registration_with_token(
        station=station, resident__nationality=other.resident.nationality.code
    )
    expiry = (timezone.localdate() + datetime.timedelta(days=3650)).isoformat()
    response = client.post(
        _private(token, "update_document"),
        {
            "document_type": "passport",
            "document_number": other.resident.document_number,
            "document_expiry": expiry,
            "passport_page": photo_upload(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == _private(token)
    other.refresh_from_db()
    assert other.resident_id != registration.resident_id
    assert other.resident.history.count() == before
    assert other.resident.email != registration.resident.email
    registration.resident.refresh_from_db()
    assert registration.resident.document_number == other.resident.document_number
    assert registration.amendments.filter(kind="travel_document").exists()  # staff check it


def test_contact_details_through_the_link(client, station):
    registration, token = registration_with_token(station=station)
    response = client.post(
        _private(token, "update_contact"),
        {
            "phone": "+33 6 12 34 56 78",
            "email": "",
            "preferred_language": "zh-hans",
            "preferred_channel": "sms",
        },
    )
    assert response.status_code == 302
    registration.resident.refresh_from_db()
    assert str(registration.resident.phone) == "+33612345678"
    assert registration.resident.preferred_language == "zh-hans"


def test_i_have_left_ends_the_registration(client, station):
    registration, token = registration_with_token(station=station)
    response = client.post(
        _private(token, "update_left"), {"departed_on": timezone.localdate().isoformat()}
    )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == S.ENDED
    # Ended: the update pages send the resident back to the status page.
    assert client.get(_private(token, "update_visa")).status_code == 302
    assert "I moved to a new address" not in client.get(_private(token)).text


def test_departure_in_the_future_is_refused_next_to_the_field(client, station):
    registration, token = registration_with_token(station=station)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(_private(token, "update_left"), {"departed_on": tomorrow})
    assert response.status_code == 400
    assert response.context["form"].errors.as_data()["departed_on"][0].code == "departure_future"


def test_correction_answer_goes_back_to_staff(client, station, officer):
    registration, token = registration_with_token(station=station)
    services.registration_request_correction(
        registration=registration, actor=officer, message="Entry stamp is blurred."
    )
    page = client.get(_private(token))
    assert "Entry stamp is blurred." in page.text
    form = client.get(_private(token, "update_correct"))
    initial = form.context["form"].initial
    assert initial["document_number"] == registration.resident.document_number
    data = form_data(
        surname=registration.resident.surname,
        document_number=registration.resident.document_number,
        nationality=registration.resident.nationality.code,
    )
    data.update(photos())
    response = client.post(_private(token, "update_correct"), data)
    assert response.status_code == 302, response.context["form"].errors
    registration.refresh_from_db()
    assert registration.status == S.RESUBMITTED


# -- lost link ----------------------------------------------------------------
def test_lost_link_answers_the_same_either_way(client, station, django_capture_on_commit_callbacks):
    registration, _token = registration_with_token(station=station)
    url = reverse("registration:lost_link")
    wrong = client.post(url, {"reference": registration.reference, "document_number": "NOPE1"})
    missing = client.post(url, {"reference": "SH-2345-6789", "document_number": "X1"})
    with django_capture_on_commit_callbacks(execute=True):
        right = client.post(
            url,
            {
                "reference": registration.reference,
                "document_number": registration.resident.document_number,
            },
        )
    assert wrong.status_code == missing.status_code == right.status_code == 302
    assert wrong["Location"] == missing["Location"] == right["Location"]
    assert len(mail.outbox) == 1


# -- photos are never reachable without permission ---------------------------
def _document(station):
    registration, token = registration_with_token(station=station)
    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="passport_page", uploaded_file=photo_upload(data=jpeg_bytes())
    )
    Document.objects.filter(pk=document.pk).update(registration=registration, attempt=None)
    return registration, token, document


def test_staff_document_needs_login_permission_and_station(
    client, station, other_station, officer, other_officer
):
    _registration, _token, document = _document(station)
    url = reverse("registration:staff_document", args=[document.public_id])
    assert client.get(url).status_code == 403  # anonymous
    client.force_login(other_officer)
    assert client.get(url).status_code == 404  # officer of another station
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline; filename=")
    assert response.content.startswith(b"\xff\xd8")


def test_staff_without_the_permission_cannot_see_documents(client, station):
    from tests.stations.factories import StaffUserFactory

    _registration, _token, document = _document(station)
    plain_staff = StaffUserFactory()  # staff, no group, no station
    client.force_login(plain_staff)
    url = reverse("registration:staff_document", args=[document.public_id])
    assert client.get(url).status_code == 403


def test_resident_sees_own_photo_but_not_another_residents(client, station):
    registration, token, document = _document(station)
    _other, other_token = registration_with_token(station=station)
    own = reverse("registration:private_photo", args=[token, document.public_id])
    theirs = reverse("registration:private_photo", args=[other_token, document.public_id])
    assert client.get(own).status_code == 200
    assert client.get(theirs).status_code == 404


def test_attempt_photos_belong_to_their_browser_session(client, station):
    client.post(_register_url(station), {**form_data(surname=""), **photos()})
    document = Document.objects.first()
    url = reverse("registration:attempt_photo", args=[document.public_id])
    assert client.get(url).status_code == 200
    from django.test import Client

    assert Client().get(url).status_code == 404
    assert SubmissionAttempt.objects.count() == 1


def test_files_are_not_under_any_public_url(client, station):
    _registration, _token, document = _document(station)
    assert client.get("/media/" + document.file.name).status_code == 404
    assert client.get("/" + document.file.name).status_code == 404


def test_private_page_offers_help_with_contact_details_filled_in(client, station):
    registration, token = registration_with_token(station=station)
    page = client.get(_private(token))
    help_url = reverse("inquiries:help", args=[station.code]) + f"?r={token}"
    assert help_url in page.text
    form = client.get(help_url)
    assert form.status_code == 200
    assert registration.resident.email in form.text
