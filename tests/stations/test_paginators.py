"""The admin paginator counts filtered lists exactly and estimates huge unfiltered ones."""

import pytest
from django.db import connection

from stations.models import Station
from stations.paginators import EXACT_COUNT_BELOW, EstimatedCountPaginator
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db


def test_small_or_filtered_lists_are_counted_exactly():
    StationFactory(code="aa")
    StationFactory(code="bb")
    assert EstimatedCountPaginator(Station.objects.all(), 10).count == 2
    assert EstimatedCountPaginator(Station.objects.filter(code="aa"), 10).count == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics: PostgreSQL")
def test_large_unfiltered_list_uses_the_planner_estimate(monkeypatch):
    StationFactory(code="aa")
    monkeypatch.setattr(
        EstimatedCountPaginator, "_estimate", staticmethod(lambda qs: EXACT_COUNT_BELOW * 3)
    )
    assert EstimatedCountPaginator(Station.objects.all(), 10).count == EXACT_COUNT_BELOW * 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner statistics: PostgreSQL")
def test_estimate_reads_pg_class_without_counting(django_assert_num_queries):
    StationFactory(code="aa")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stations_station")
    with django_assert_num_queries(2):  # the estimate, then the exact count (small table)
        assert EstimatedCountPaginator(Station.objects.all(), 10).count == 1
