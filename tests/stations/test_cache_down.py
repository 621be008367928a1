"""
The cache is a help, never a dependency: with every cache call failing (as when Redis is
stopped) the public pages answer, the page views of a hand-over are lost, the flush takes
nothing, and each failure is logged as a warning — never an error page, never a failed task.
"""

import logging

import pytest
from django.urls import reverse

from inquiries.models import Inquiry
from stations.models import StationVisitDay
from stations.selectors import station_visit_counts
from stations.visits import station_visits_flush

pytestmark = pytest.mark.django_db

BROKEN = {"default": {"BACKEND": "tests.core.broken_cache.BrokenCache"}}


@pytest.fixture
def cache_down(settings, caplog):
    settings.CACHES = BROKEN
    caplog.set_level(logging.WARNING)
    return caplog


def _warned(caplog) -> bool:
    return any(r.levelno == logging.WARNING and "ache" in r.getMessage() for r in caplog.records)


def test_station_page_qr_and_forms_answer_while_the_cache_is_down(client, station, cache_down):
    pages = [
        f"/s/{station.code}/",
        f"/s/{station.code}/",
        f"/s/{station.code}/qr.svg",
        reverse("registration:register", args=[station.code]),
        f"/s/{station.code}/help/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
    assert "Shipai Street Expat Service Station" in client.get(f"/s/{station.code}/").text
    assert _warned(cache_down)
    assert not [r for r in cache_down.records if r.levelno >= logging.ERROR]


def test_help_request_is_stored_while_the_cache_is_down(client, station, cache_down):
    response = client.post(
        f"/s/{station.code}/help/",
        {
            "category": "housing",
            "subject": "Heating broken",
            "description": "The heating has not worked for three days.",
            "urgency": "normal",
            "contact_name": "John Smith",
            "contact_method": "phone",
            "phone": "13800138000",
            "contact_time": "any",
            "language": "en",
        },
    )
    assert response.status_code == 302
    assert Inquiry.objects.count() == 1


def test_visits_flush_while_the_cache_is_down_takes_nothing_and_only_warns(
    client, station, cache_down
):
    assert client.get(f"/s/{station.code}/").status_code == 200  # served, its view lost
    assert station_visits_flush() == 0  # nothing taken, no exception for the beat task
    assert not StationVisitDay.objects.exists()
    assert station_visit_counts([station.pk]) == {}  # the stored rows only
    assert _warned(cache_down)
