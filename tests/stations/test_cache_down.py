"""
The cache is a help, never a dependency: with every cache call failing (as when Redis is
stopped) the public pages answer, the visit counters keep their views, and each failure is
logged as a warning — never an error page, never a failed task.
"""

import logging

import pytest
from django.urls import reverse

from inquiries.models import Inquiry
from stations.models import StationVisitDay
from stations.selectors import station_visit_counts, stations_generation_forget
from stations.services import station_visits_flush
from stations.visits import visit_buffer_take

pytestmark = pytest.mark.django_db

BROKEN = {"default": {"BACKEND": "tests.core.broken_cache.BrokenCache"}}


@pytest.fixture
def cache_down(settings, caplog):
    settings.CACHES = BROKEN
    settings.STATION_VISIT_BUFFER_VIEWS = 1  # hand every view to the (broken) cache at once
    stations_generation_forget()
    visit_buffer_take()
    caplog.set_level(logging.WARNING)
    yield caplog
    visit_buffer_take()
    stations_generation_forget()


def _warned(caplog) -> bool:
    return any(r.levelno == logging.WARNING and "ache" in r.getMessage() for r in caplog.records)


def test_station_page_qr_and_forms_answer_while_the_cache_is_down(client, station, cache_down):
    pages = [
        f"/s/{station.code}/",
        f"/s/{station.code}/qr.svg",
        reverse("registration:register", args=[station.code]),
        f"/s/{station.code}/help/",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
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


def test_visits_flush_while_the_cache_is_down_keeps_the_views_and_only_warns(
    client, station, cache_down
):
    assert client.get(f"/s/{station.code}/").status_code == 200
    assert station_visits_flush() == 0  # nothing taken, no exception for the beat task
    assert not StationVisitDay.objects.exists()
    # The view stays in this process's buffer for the next hand-over, and still counts.
    assert station_visit_counts([station.pk])[station.pk] == 1
    assert _warned(cache_down)
