"""Fixtures shared by the whole suite."""

import pytest
from django.core.cache import cache
from django.utils import translation

from stations.pages import pages_forget
from stations.visits import visits_hand_over
from tests.celery_support import live_worker  # noqa: F401  (real worker, tests marked celery_worker)
from tests.stations.factories import StaffUserFactory, StationFactory  # noqa: F401


@pytest.fixture(autouse=True)
def _clean_state():
    """Start every test with an empty cache, no kept station page, no station page view
    waiting to be handed over, and the default language."""
    visits_hand_over()  # into the cache emptied next: a test's views stay in that test
    cache.clear()
    pages_forget()
    yield
    translation.activate("en")


@pytest.fixture
def station(db):
    return StationFactory(code="shipai")


@pytest.fixture
def other_station(db):
    return StationFactory(code="linhe")
