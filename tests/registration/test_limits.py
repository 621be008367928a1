"""
What one visitor can make the server do, tried as the attacker does: the form's POSTs,
photo quotas, images too large in pixels, the lost-link page, forged client addresses and
the cache going away.
"""

import datetime
import io
import struct
import zlib
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from registration.constants import DocumentKind
from registration.models import Document, Registration, SubmissionAttempt
from registration.tasks import attempts_delete_old_task
from tests.core.broken_cache import BROKEN_CACHES, CLOSED_REDIS_CACHES
from tests.registration.factories import form_data, photos, registration_with_token

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"
LOST_LINK = reverse("registration:lost_link")


def _register_url(station):
    return reverse("registration:register", args=[station.code])


def _noise_jpeg(seed: int) -> bytes:
    """A photo of sensor noise: nothing for the JPEG encoder to squeeze."""
    bands = [Image.effect_noise((480, 360), 80 + seed % 7 + band) for band in range(3)]
    buffer = io.BytesIO()
    Image.merge("RGB", bands).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _four_noise_photos(seed: int) -> dict:
    return {
        kind: SimpleUploadedFile(f"{kind}.jpg", _noise_jpeg(seed + n), "image/jpeg")
        for n, kind in enumerate(DocumentKind.values)
    }


def _private_files() -> int:
    return sum(1 for path in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if path.is_file())


def _codes(response, field) -> list[str]:
    return [error.code for error in response.context["form"].errors.as_data().get(field, [])]


def _big_png(width: int, height: int) -> bytes:
    """A real, decodable 1-bit PNG of ``width``×``height`` pixels, a few KB on the wire."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte, then white pixels
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


# -- attack 5: the review step as an open upload --------------------------------------
def test_fifteen_posts_of_four_noise_photos_are_refused_after_the_quota(client, station):
    """Attack: 15 POSTs of four photos, no other field, no cookie kept, from one address."""
    quota = settings.RATE_LIMITS["photos-address"]["limit"]
    files_before = _private_files()
    responses = []
    for n in range(15):
        client.cookies.clear()  # a script keeps no session: a new attempt every time
        responses.append(
            client.post(
                _register_url(station),
                _four_noise_photos(4 * n),
                REMOTE_ADDR=ATTACKER,
                HTTP_ACCEPT_LANGUAGE="zh-CN",
            )
        )
    accepted = quota // 4
    assert [r.status_code for r in responses[:accepted]] == [400] * accepted
    refused = responses[accepted:]
    assert [r.status_code for r in refused] == [429] * len(refused)
    for response in refused:
        for kind in DocumentKind.values:
            assert _codes(response, kind) == ["photo_quota"]
        assert "从此处发送的照片过多" in response.text
    # Private storage grew by the quota (a photo and its thumbnail each), not by what was sent.
    assert Document.objects.count() == quota
    assert _private_files() - files_before == 2 * quota
    # Someone else keeps sending photos meanwhile.
    client.cookies.clear()
    other = client.post(_register_url(station), {**form_data(), **photos()}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 200


def test_one_attempt_cannot_send_photos_without_end(client, station):
    """Same session again and again: the attempt's quota, and at most one file per kind."""
    quota = settings.RATE_LIMITS["photos-attempt"]["limit"]
    statuses = [
        client.post(_register_url(station), _four_noise_photos(n), REMOTE_ADDR=ATTACKER).status_code
        for n in range(quota // 4 + 2)
    ]
    assert statuses[: quota // 4] == [400] * (quota // 4)
    assert set(statuses[quota // 4 :]) == {429}
    assert SubmissionAttempt.objects.count() == 1
    assert Document.objects.count() == len(DocumentKind.values)


def test_every_post_of_the_form_counts_against_one_limit(client, station, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "registration-form": {"limit": 3, "window": 3600},
    }
    url = _register_url(station)
    assert client.post(url, {**form_data(), **photos()}).status_code == 200  # review
    assert client.post(url, {**form_data(), "step": "submit"}).status_code == 302
    assert (
        client.post(url, {**form_data(document_number="B7654321"), **photos()}).status_code == 200
    )
    # The fourth POST, a review step with photos: refused before any photo is opened.
    documents = Document.objects.count()
    response = client.post(url, {**form_data(document_number="B7654321"), **photos()})
    assert response.status_code == 429
    assert response.context["form"].non_field_errors().as_data()[0].code == "rate_limited"
    assert Document.objects.count() == documents
    assert response.context["form"]["surname"].value() == "Diallo"  # what was typed is kept
    assert Registration.objects.count() == 1


def test_a_7000_by_7000_png_is_refused_before_it_is_decoded(client, station, monkeypatch):
    """Attack: a 49-megapixel PNG of a few KB, beyond the documented 40 MP limit."""
    from PIL import ImageFile

    png = _big_png(7000, 7000)
    assert len(png) < 100_000
    assert 7000 * 7000 > settings.REGISTRATION_IMAGE_MAX_PIXELS == 40_000_000

    def never_decode(self):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never_decode)
    upload = SimpleUploadedFile("stamp.png", png, "image/png")
    response = client.post(
        _register_url(station),
        {**form_data(), "entry_stamp": upload},
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )
    assert response.status_code == 400
    assert _codes(response, "entry_stamp") == ["image_too_many_pixels"]
    assert "该照片的像素超过 40 MP（百万像素）" in response.text
    assert not Document.objects.filter(kind="entry_stamp").exists()


def test_the_same_png_in_english_names_the_limit(client, station):
    upload = SimpleUploadedFile("stamp.png", _big_png(7000, 7000), "image/png")
    response = client.post(_register_url(station), {**form_data(), "entry_stamp": upload})
    assert response.status_code == 400
    assert "more than 40 million pixels" in response.text


def test_abandoned_attempts_are_deleted_hourly_after_a_day(client, station):
    schedule = settings.CELERY_BEAT_SCHEDULE["registration-attempts-delete-old"]
    assert schedule["task"] == attempts_delete_old_task.name
    assert schedule["schedule"].minute == {40}  # every hour
    assert settings.REGISTRATION_ATTEMPT_MAX_AGE_HOURS == 24
    client.post(_register_url(station), _four_noise_photos(1), REMOTE_ADDR=ATTACKER)
    assert Document.objects.count() == 4
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=23)):
        assert attempts_delete_old_task() == 0
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        assert attempts_delete_old_task() == 1
    assert not SubmissionAttempt.objects.exists()
    assert not Document.objects.exists()


# -- attack 7: locking a resident out of the lost-link page ----------------------------
def test_strangers_at_six_addresses_cannot_lock_the_resident_out(
    client, station, django_capture_on_commit_callbacks
):
    registration, _token = registration_with_token(station=station)
    wrong = {"reference": registration.reference, "document_number": "NOPE1"}
    for n in range(6):
        assert client.post(LOST_LINK, wrong, REMOTE_ADDR=f"198.51.100.{n + 1}").status_code == 302
    right = {
        "reference": registration.reference,
        "document_number": registration.resident.document_number,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOST_LINK, right, REMOTE_ADDR="203.0.113.50")
    assert response.status_code == 302
    assert len(mail.outbox) == 1


def test_one_address_hammering_one_reference_is_refused(client, station):
    registration, _token = registration_with_token(station=station)
    wrong = {"reference": registration.reference, "document_number": "NOPE1"}
    limit = settings.RATE_LIMITS["lost-link-reference-address"]["limit"]
    statuses = [
        client.post(LOST_LINK, wrong, REMOTE_ADDR=ATTACKER).status_code for _ in range(limit + 3)
    ]
    assert statuses == [302] * limit + [429] * 3
    # The resident, elsewhere, is not locked out.
    right = {
        "reference": registration.reference,
        "document_number": registration.resident.document_number,
    }
    assert client.post(LOST_LINK, right, REMOTE_ADDR="203.0.113.50").status_code == 302


def test_one_address_trying_many_references_is_refused(client, station):
    limit = settings.RATE_LIMITS["lost-link-address"]["limit"]
    statuses = [
        client.post(
            LOST_LINK,
            {"reference": f"SH-{2000 + n}-6789", "document_number": "X1"},
            REMOTE_ADDR=ATTACKER,
        ).status_code
        for n in range(limit + 2)
    ]
    assert statuses == [302] * limit + [429] * 2


# -- attack 8: forged client addresses ------------------------------------------------
def test_a_forged_forwarded_header_does_not_reset_the_lost_link_limit(client, station, settings):
    """Attack: gunicorn reached without the proxy, a new X-Forwarded-For on every try."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    registration, _token = registration_with_token(station=station)
    wrong = {"reference": registration.reference, "document_number": "NOPE1"}
    limit = settings.RATE_LIMITS["lost-link-reference-address"]["limit"]
    statuses = [
        client.post(
            LOST_LINK, wrong, REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(limit + 3)
    ]
    assert statuses == [302] * limit + [429] * 3


def test_behind_our_proxy_each_resident_has_their_own_count(client, station, settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "lost-link-address": {"limit": 1, "window": 3600},
    }
    data = {"reference": "SH-2345-6789", "document_number": "X1"}
    for n in range(3):
        response = client.post(
            LOST_LINK, data, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        )
        assert response.status_code == 302


# -- issue 14: a registration is stored whatever the cache does -----------------------
@pytest.mark.parametrize(
    "caches", [BROKEN_CACHES, CLOSED_REDIS_CACHES], ids=["raising", "redis-port-closed"]
)
def test_with_the_cache_down_the_registration_is_stored_and_the_receipt_shown(
    client, station, settings, caches
):
    settings.CACHES = caches
    url = _register_url(station)
    review = client.post(url, {**form_data(), **photos()})
    assert review.status_code == 200
    submit = client.post(url, {**form_data(), "step": "submit"})
    assert submit.status_code == 302
    receipt = client.get(submit["Location"])
    assert receipt.status_code == 200
    registration = Registration.objects.get()
    assert registration.reference in receipt.text
    assert registration.documents.count() == 3
