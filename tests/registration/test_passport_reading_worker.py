"""A passport photo read through a real Celery worker and a real Redis broker."""

import shutil

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.registration.mrz_corpus import clean_photo
from tests.stations.factories import StationFactory

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        shutil.which("tesseract") is None, reason="needs tesseract: bin/install-system-packages"
    ),
]


def test_passport_reading_goes_through_the_broker(live_worker):
    station = StationFactory(code="shipai")
    client = Client()
    url = reverse("registration:passport_reading", args=[station.code])
    data, truth = clean_photo()
    photo = SimpleUploadedFile("passport.jpg", data, "image/jpeg")
    response = client.post(url, {"passport_page": photo})
    assert response.status_code == 202
    assert response.json()["status"] == "pending"
    live_worker.wait_for(lambda: client.get(url).json()["status"] == "done", timeout=60)
    assert client.get(url).json()["fields"] == truth
