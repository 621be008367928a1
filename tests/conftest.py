"""Fixtures shared by the whole suite."""

import pytest
from django.core.cache import cache
from django.utils import translation

from tests.celery_support import live_worker  # noqa: F401  (real worker, tests marked celery_worker)
from tests.stations.factories import StaffUserFactory, StationFactory  # noqa: F401


@pytest.fixture(autouse=True)
def _clean_state():
    """Start every test with an empty cache and the default language."""
    cache.clear()
    yield
    translation.activate("en")


@pytest.fixture
def station(db):
    return StationFactory(code="shipai")


@pytest.fixture
def other_station(db):
    return StationFactory(code="linhe")
