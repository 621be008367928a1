"""
The passport-reading endpoint of the registration form, its task and its storage.

A resident's phone sends the passport photo as soon as it is chosen and asks until the
machine-readable zone is read; only that browser session ever sees the reading.
"""

import json
import random
import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from registration import tasks
from registration.constants import DocumentKind, MrzNote, PassportReadingStatus
from registration.models import Document, Registration, SubmissionAttempt
from registration.mrz import MrzReading
from registration.services_mrz import passport_reading_run
from tests.registration.factories import form_data, photo_upload, png_bytes
from tests.registration.mrz_corpus import clean_photo

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        shutil.which("tesseract") is None, reason="needs tesseract: bin/install-system-packages"
    ),
]


@pytest.fixture(scope="module")
def passport():
    """A clean photo of a passport page and the form values it holds."""
    return clean_photo()


def _upload(data: bytes, name="passport.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type)


def _noise_jpeg() -> bytes:
    import io

    rng = random.Random(5)
    out = io.BytesIO()
    Image.frombytes("L", (600, 400), rng.randbytes(600 * 400)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def url(station):
    return reverse("registration:passport_reading", args=[station.code])


def _send(client, url, data, capture, **extra):
    with capture(execute=True):
        return client.post(url, {"passport_page": _upload(data)}, **extra)


def test_passport_photo_fills_the_fields_for_the_session_that_sent_it(
    client, url, passport, django_capture_on_commit_callbacks
):
    data, truth = passport
    response = _send(client, url, data, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "done"
    assert body["fields"] == truth
    assert "8 fields" in body["message"]
    assert body["notes"] == []
    assert body["photo"].startswith("/registration/photo/")
    assert response["Cache-Control"].startswith("max-age=0")


def test_form_sent_after_the_reading_keeps_the_photo_without_sending_it_again(
    client, url, passport, station, django_capture_on_commit_callbacks
):
    data, truth = passport
    _send(client, url, data, django_capture_on_commit_callbacks)
    register = reverse("registration:register", args=[station.code])
    fields = {k: truth[k] for k in ("surname", "given_names", "sex", "nationality")}
    others = {
        "visa_page": photo_upload("visa.png", png_bytes(), "image/png"),
        "entry_stamp": photo_upload("stamp.jpg"),
    }
    response = client.post(register, {**form_data(**fields), **others})
    assert response.status_code == 200
    assert "passport_page" not in response.context["form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(register, {**form_data(**fields), "step": "submit"})
    assert response.status_code == 302
    registration = Registration.objects.get()
    kinds = set(registration.documents.values_list("kind", flat=True))
    assert DocumentKind.PASSPORT_PAGE in kinds
    assert not SubmissionAttempt.objects.exists()


def test_stranger_session_sees_no_reading(
    client, url, passport, django_capture_on_commit_callbacks
):
    data, _truth = passport
    _send(client, url, data, django_capture_on_commit_callbacks)
    stranger = Client()
    response = stranger.get(url)
    assert response.status_code == 200
    assert response.json() == {"status": "none"}


def test_reading_of_a_replaced_photo_is_never_shown(
    client, url, passport, django_capture_on_commit_callbacks
):
    data, _truth = passport
    _send(client, url, data, django_capture_on_commit_callbacks)
    response = _send(client, url, _noise_jpeg(), django_capture_on_commit_callbacks)
    assert response.status_code == 202
    body = client.get(url).json()
    assert body["status"] == "done"
    assert body["fields"] == {}
    assert body["notes"] == [str(MrzNote.NOT_FOUND.label)]
    assert Document.objects.filter(kind=DocumentKind.PASSPORT_PAGE).count() == 1


def test_task_delivered_twice_reads_once(client, url, passport, django_capture_on_commit_callbacks):
    data, _truth = passport
    _send(client, url, data, django_capture_on_commit_callbacks)
    attempt = SubmissionAttempt.objects.get()
    document = attempt.documents.get()
    stored = attempt.passport_reading
    assert tasks.passport_photo_read(attempt.pk, document.pk) is False
    attempt.refresh_from_db()
    assert attempt.passport_reading == stored
    assert attempt.passport_reading_status == PassportReadingStatus.DONE


def test_task_for_a_replaced_photo_reads_nothing(
    client, url, passport, django_capture_on_commit_callbacks
):
    data, _truth = passport
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.post(url, {"passport_page": _upload(data)})
    first = Document.objects.get()
    _send(client, url, _noise_jpeg(), django_capture_on_commit_callbacks)
    for callback in callbacks:  # the first photo's task arrives late
        callback()
    assert passport_reading_run(attempt_id=first.attempt_id, document_id=first.pk) is False
    body = client.get(url).json()
    assert body["fields"] == {}


def test_reading_is_stored_encrypted(client, url, passport, django_capture_on_commit_callbacks):
    from django.db import connection

    data, truth = passport
    _send(client, url, data, django_capture_on_commit_callbacks)
    with connection.cursor() as cursor:
        cursor.execute("SELECT passport_reading FROM registration_submissionattempt")
        (raw,) = cursor.fetchone()
    assert truth["document_number"] not in raw
    assert truth["surname"] not in raw
    attempt = SubmissionAttempt.objects.get()
    stored = MrzReading.from_dict(json.loads(attempt.passport_reading))
    assert stored.fields["document_number"] == truth["document_number"]


def test_file_that_is_not_an_image_gets_a_translated_error_not_a_500(client, url):
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF"
    response = client.post(
        url,
        {"passport_page": _upload(pdf, "passport.jpg")},
        headers={"accept-language": "zh-hans"},
    )
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == "none"
    assert "JPEG" in body["error"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["error"])


def test_post_without_a_photo_is_refused_quietly(client, url):
    response = client.post(url, {})
    assert response.status_code == 400
    assert response.json() == {"status": "none"}


def test_reading_flood_from_one_address_keeps_the_photo_but_reads_nothing(
    client, url, passport, settings, django_capture_on_commit_callbacks
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "passport-read": {"limit": 1, "window": 3600}}
    data, _truth = passport
    _send(client, url, _noise_jpeg(), django_capture_on_commit_callbacks)
    response = _send(client, url, data, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    body = response.json()
    assert body["fields"] == {}
    assert body["notes"] == [str(MrzNote.UNAVAILABLE.label)]
    assert Document.objects.filter(kind=DocumentKind.PASSPORT_PAGE).count() == 1


def test_broker_down_tells_the_resident_to_type_the_fields(
    client, url, passport, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.passport_photo_read, "apply_async", broken)
    data, _truth = passport
    response = _send(client, url, data, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    body = client.get(url).json()
    assert body["status"] == "done"
    assert body["fields"] == {}
    assert body["notes"] == [str(MrzNote.UNAVAILABLE.label)]


def test_reading_is_pending_until_the_worker_ran(client, url, passport):
    data, _truth = passport
    # No on-commit capture: the task is not run, as when the worker is busy.
    response = client.post(url, {"passport_page": _upload(data)})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "pending"
    assert "fields" not in body


def test_inactive_or_unknown_station_answers_404(client, station):
    assert client.get(reverse("registration:passport_reading", args=["nowhere"])).status_code == 404
    station.is_active = False
    station.save()
    url = reverse("registration:passport_reading", args=[station.code])
    assert client.get(url).status_code == 404


def test_messages_are_translated_into_chinese(
    client, url, passport, django_capture_on_commit_callbacks
):
    data, _truth = passport
    _send(
        client,
        url,
        data,
        django_capture_on_commit_callbacks,
        headers={"accept-language": "zh-hans"},
    )
    body = client.get(url, headers={"accept-language": "zh-hans"}).json()
    assert "护照" in body["message"]


def test_photo_flood_through_the_passport_endpoint_stops_at_the_form_quota(
    client, url, settings, django_capture_on_commit_callbacks
):
    """The endpoint is another way in for photos: the form's quotas bind it too."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "photos-attempt": {"limit": 3, "window": 3600}}
    answers = [
        _send(client, url, _noise_jpeg(), django_capture_on_commit_callbacks).status_code
        for _ in range(6)
    ]
    assert answers[:3] == [202, 202, 202]
    assert answers[3:] == [429, 429, 429]
    # Each accepted photo replaced the previous one; refused ones were never opened.
    assert Document.objects.filter(kind=DocumentKind.PASSPORT_PAGE).count() == 1


def test_form_page_shows_the_read_fields_for_the_resident_to_confirm(
    client, url, station, passport, django_capture_on_commit_callbacks
):
    """Without JavaScript too: the form page itself offers what the passport proved."""
    data, truth = passport
    assert _send(client, url, data, django_capture_on_commit_callbacks).status_code == 202
    page = client.get(reverse("registration:register", args=[station.code]))
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert initial["surname"] == truth["surname"]
    assert str(initial["date_of_birth"]) == truth["date_of_birth"]
    assert f'value="{truth["surname"]}"' in page.text
    # Another visitor's form page shows nothing of it.
    other = Client().get(reverse("registration:register", args=[station.code]))
    assert other.status_code == 200
    assert truth["surname"] not in other.text
