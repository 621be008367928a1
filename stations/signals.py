"""Keep the station pages and QR codes a process has kept in step with the database."""

from django.db import transaction

from stations.pages import pages_forget


def station_changed(sender, **kwargs):
    """Drop this process's copies of the station pages now and again after the commit."""
    pages_forget()
    # A request between now and the commit may keep the old page again: drop it once more.
    transaction.on_commit(pages_forget)
