"""Public pages of the stations app."""

from django.shortcuts import render

from stations.selectors import active_stations


def home(request):
    """List the active stations, each linking to its station page."""
    return render(request, "stations/home.html", {"stations": active_stations()})
