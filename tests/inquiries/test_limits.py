"""The help form under attack and under faults: forged addresses, photo floods, no cache."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageFile

from inquiries.models import Inquiry
from tests.core.broken_cache import BROKEN_CACHES, CLOSED_REDIS_CACHES
from tests.inquiries.test_views import URL, _data

pytestmark = pytest.mark.django_db

ATTACKER = "198.51.100.7"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.effect_noise((320, 240), 60).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "caches", [BROKEN_CACHES, CLOSED_REDIS_CACHES], ids=["raising", "redis-port-closed"]
)
def test_with_the_cache_down_a_help_request_is_stored(client, station, settings, caches):
    settings.CACHES = caches
    response = client.post(URL, _data())
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert Inquiry.objects.count() == 1


def test_a_forged_forwarded_header_does_not_reset_the_help_limit(client, station, settings):
    """Attack: gunicorn reached without the proxy, a new X-Forwarded-For on every request."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    limit = settings.RATE_LIMITS["help-request"]["limit"]
    statuses = [
        client.post(
            URL, _data(), REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
        ).status_code
        for n in range(limit + 3)
    ]
    assert statuses == [302] * limit + [429] * 3
    assert Inquiry.objects.count() == limit


def test_photos_refused_by_the_quota_are_never_opened(client, station, monkeypatch):
    """Attack: help forms that never pass, each with a photo to decode."""
    quota = settings.RATE_LIMITS["photos-address"]["limit"]
    photo = _jpeg()
    statuses = [
        client.post(
            URL,
            {**_data(subject=""), "photo": SimpleUploadedFile("p.jpg", photo, "image/jpeg")},
            REMOTE_ADDR=ATTACKER,
        ).status_code
        for _ in range(quota)
    ]
    assert set(statuses) == {400}  # no subject: refused, though the photo was cleaned

    def never_decode(self):
        raise AssertionError("a photo over the quota was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", never_decode)
    upload = SimpleUploadedFile("p.jpg", photo, "image/jpeg")
    response = client.post(URL, {**_data(), "photo": upload}, REMOTE_ADDR=ATTACKER)
    assert response.status_code == 429
    assert response.context["form"]["subject"].value() == _data()["subject"]
    assert not Inquiry.objects.exists()
