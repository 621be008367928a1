"""Celery tasks of the stations app. They only call services."""

from celery import shared_task

from stations.visits import station_visits_flush as _station_visits_flush


@shared_task(name="stations.station_visits_flush")
def station_visits_flush() -> int:
    """Write the station page views counted in the cache to the database (beat: every 5 min)."""
    return _station_visits_flush()
