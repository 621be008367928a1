"""Keep the cached station pages in step with the database."""

from django.db import transaction

from stations.services import stations_cache_bump


def station_changed(sender, **kwargs):
    """Invalidate the cached station pages now and again once the change is committed."""
    stations_cache_bump()
    # A request between now and the commit may cache the old data again: bump once more.
    transaction.on_commit(stations_cache_bump)
