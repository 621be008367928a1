"""The admin paginator counts filtered lists exactly and estimates huge unfiltered ones."""

import pytest
from django.db import connection

from core.paginators import EstimatedCountPaginator
from stations.models import Station
from tests.stations.factories import StationFactory

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="planner statistics: PostgreSQL"
)


def test_small_or_filtered_lists_are_counted_exactly():
    StationFactory(code="aa")
    StationFactory(code="bb")
    assert EstimatedCountPaginator(Station.objects.all(), 10).count == 2
    assert EstimatedCountPaginator(Station.objects.filter(code="aa"), 10).count == 1


@postgresql_only
def test_large_unfiltered_list_uses_the_planner_estimate(monkeypatch):
    StationFactory(code="aa")
    monkeypatch.setattr("core.paginators.EXACT_COUNT_BELOW", 0)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stations_station")
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'stations_station'")
        (estimate,) = cursor.fetchone()
    assert EstimatedCountPaginator(Station.objects.all(), 10).count == estimate


@postgresql_only
def test_unfiltered_count_is_one_query_at_any_size(django_assert_num_queries):
    StationFactory(code="aa")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE stations_station")
    with django_assert_num_queries(1):
        assert EstimatedCountPaginator(Station.objects.all(), 10).count == 1
