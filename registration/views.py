"""Views of the registration journey."""

from django.http import Http404
from django.shortcuts import render

from stations.selectors import station_get_by_code


def register(request, code):
    """Open the registration form of the station ``code`` (coming soon)."""
    station = station_get_by_code(code)
    if station is None:
        raise Http404
    return render(request, "registration/coming_soon.html", {"station": station}, status=200)


def update_start(request):
    """Explain how to update a registration (coming soon)."""
    return render(request, "registration/coming_soon.html", {"station": None})
